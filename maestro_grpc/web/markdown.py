"""Comments' Markdown as safe HTML: markdown-it-py (raw HTML off) then nh3's allow-list.

Two locks on one door: markdown-it escapes any HTML typed into a comment and
refuses javascript:, vbscript: and data: links; nh3 (the Ammonia sanitiser)
then keeps only an allow-list of tags and attributes and the http, https and
mailto schemes, and marks every link noopener, noreferrer and nofollow.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("strikethrough")
_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
}


def to_html(text: str) -> Markup:
    rendered = _PARSER.render(text)
    clean = nh3.clean(
        rendered,
        tags=_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)
