"""The messages forges write when they merge a pull (merge) request: the one table of them.

| forge | shape | where | form |
| --- | --- | --- | --- |
| Bitbucket Server | merge | subject | `Merge pull request #12 in PROJ/repo from x to main` |
| GitHub | merge | subject | `Merge pull request #12 from owner/branch`, bare `... #12` |
| Gitea, Forgejo | merge | subject | `Merge pull request 'Title' (#12) from x into main` |
| Bitbucket Cloud | merge, squash | subject | `Merged in feature (pull request #12)` |
| Azure DevOps | merge, squash | subject | `Merged PR 12: Title` |
| GitHub, Gitea (title) | merge, squash | subject | `Title (#12)` |
| GitLab | merge | body | a line `See merge request group/project!12` |

"merge" is a commit with two or more parents, "squash" one with a single
parent. The forms are tried in the order of the table; the first that
matches names the pull request. GitHub's synthetic `Merge <sha> into <sha>`
(the head of a pull-request build, on no branch) is not a merged pull
request: `is_synthetic_merge` tells it apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SYNTHETIC_MERGE = re.compile(r"^Merge [0-9a-f]{40} into [0-9a-f]{40}$")


@dataclass(frozen=True)
class PullRequestForm:
    """One way a forge names the pull request a commit merged."""

    forge: str
    merge: bool  # matches commits with two or more parents
    squash: bool  # matches commits with one parent
    in_body: bool  # searched in the message's body, not its subject
    pattern: re.Pattern[str]
    example: str  # a real message of this form, tried by the tests


@dataclass(frozen=True)
class NamedPullRequest:
    """What a message says: the number, and the source branch and title when it says them."""

    number: int
    forge: str
    source: str = ""
    title: str = ""


FORMS: tuple[PullRequestForm, ...] = (
    PullRequestForm(
        "bitbucket-server",
        True,
        False,
        False,
        re.compile(r"^Merge pull request #(?P<number>\d+) in \S+ from (?P<source>\S+) to \S+"),
        "Merge pull request #12 in PROJ/repo from feature/x to main",
    ),
    PullRequestForm(
        "github",
        True,
        False,
        False,
        re.compile(r"^Merge pull request #(?P<number>\d+)(?: from (?P<source>\S+))?\s*$"),
        "Merge pull request #12 from octo/feature",
    ),
    PullRequestForm(
        "gitea",
        True,
        False,
        False,
        re.compile(
            r"^Merge pull request '(?P<title>.*)' \(#(?P<number>\d+)\) "
            r"from (?P<source>\S+) into \S+"
        ),
        "Merge pull request 'Add a parser' (#12) from feature into main",
    ),
    PullRequestForm(
        "bitbucket-cloud",
        True,
        True,
        False,
        re.compile(r"^Merged in (?P<source>\S+) \(pull request #(?P<number>\d+)\)"),
        "Merged in feature/x (pull request #12)",
    ),
    PullRequestForm(
        "azure-devops",
        True,
        True,
        False,
        re.compile(r"^Merged PR (?P<number>\d+): (?P<title>.*)$"),
        "Merged PR 12: Add a parser",
    ),
    PullRequestForm(
        "github-title",
        True,
        True,
        False,
        re.compile(r"^(?P<title>.*\S)\s*\(#(?P<number>\d+)\)\s*$"),
        "Add a parser (#12)",
    ),
    PullRequestForm(
        "gitlab",
        True,
        False,
        True,
        re.compile(r"^See merge request (?P<project>\S+)!(?P<number>\d+)\s*$", re.MULTILINE),
        "Merge branch 'feature' into 'main'\n\nAdd a parser\n\nSee merge request group/app!12",
    ),
)


def is_synthetic_merge(subject: str) -> bool:
    """GitHub's `Merge <sha> into <sha>`: the merge a pull-request build runs on."""
    return SYNTHETIC_MERGE.match(subject) is not None


def may_name(subject: str, parents: int) -> bool:
    """Whether a commit's subject alone can name a pull request (so that its body
    is worth reading): every merge can (GitLab's form is in the body), a
    single-parent commit only by its subject."""
    if parents >= 2:
        return not is_synthetic_merge(subject)
    return parents == 1 and named_pull_request(subject, "", parents) is not None


def named_pull_request(subject: str, body: str, parents: int) -> NamedPullRequest | None:
    """The pull request a commit's message says it merged, or None.

    `body` is the whole message (as `git log %B` prints it), or "" when not
    read."""
    if parents < 1 or (parents >= 2 and is_synthetic_merge(subject)):
        return None
    for form in FORMS:
        if not (form.merge if parents >= 2 else form.squash):
            continue
        match = form.pattern.search(body) if form.in_body else form.pattern.match(subject)
        if match is None:
            continue
        found = match.groupdict()
        return NamedPullRequest(
            number=int(found["number"]),
            forge=form.forge,
            source=found.get("source") or "",
            title=(found.get("title") or "").strip(),
        )
    return None
