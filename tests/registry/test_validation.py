"""Field rules, table-driven, and properties of the search normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maestro_grpc.errors import Violations
from maestro_grpc.registry.store.search import search_words
from maestro_grpc.registry.wire import validation as check


@pytest.mark.parametrize(
    ("raw", "normal", "ok"),
    [
        (["NLP", "nlp", " bert "], ("nlp", "bert"), True),
        (["a.b:c/d-e_f"], ("a.b:c/d-e_f",), True),
        (["has space"], (), False),
        ([""], (), False),
        (["-leading"], (), False),
        (["x" * 100], ("x" * 100,), True),
        (["x" * 101], (), False),
    ],
)
def test_tags(raw: list[str], normal: tuple[str, ...], ok: bool) -> None:
    v = Violations()
    assert check.tags(v, raw, "tags") == normal
    assert bool(v) is not ok


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("team", True),
        ("a.b/c-d_e", True),
        ("Team", False),
        ("-x", False),
        ("x-", False),
        ("", False),
        ("k" * 63, True),
        ("k" * 64, False),
    ],
)
def test_label_keys(key: str, ok: bool) -> None:
    v = Violations()
    check.labels(v, {key: "v"}, "labels")
    assert bool(v) is not ok


@pytest.mark.parametrize(
    ("version", "ok"),
    [
        ("1.0.0", True),
        ("2024-01-01", True),
        ("v1+build.5", True),
        ("", False),
        ("1 0", False),
        (".1", False),
    ],
)
def test_versions(version: str, ok: bool) -> None:
    v = Violations()
    check.version(v, version, "version")
    assert bool(v) is not ok


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://github.com/org/repo", True),
        ("git@github.com:org/repo.git", True),
        ("ssh://git@host/repo", True),
        ("file:///srv/repo", True),
        ("", True),
        ("github.com/org/repo", False),
        ("ftp://host/x", False),
    ],
)
def test_urls(url: str, ok: bool) -> None:
    v = Violations()
    check.url(v, url, "repo_url")
    assert bool(v) is not ok


@pytest.mark.parametrize(
    ("value", "ok"), [(0.0, False), (0.5, True), (1.0, True), (1.01, False), (float("nan"), False)]
)
def test_open_interval(value: float, ok: bool) -> None:
    v = Violations()
    check.number(v, value, "allocation", low=0.0, high=1.0, low_open=True)
    assert bool(v) is not ok


def test_search_words() -> None:
    assert search_words("ResNet-50 on ImageNet_v2!", ["NLP", "a.b"]) == [
        "resnet",
        "50",
        "on",
        "imagenet",
        "v2",
        "nlp",
        "a",
        "b",
    ]


@given(st.text())
def test_search_words_are_plain_lowercase_alphanumeric(text: str) -> None:
    for word in search_words(text):
        assert word
        assert word == word.lower()
        assert all(ch.isalnum() for ch in word)
        # Words need no quoting in either query language.
        assert not set(word) & set('"*:')


@given(st.lists(st.text(max_size=30), max_size=20))
def test_tags_never_grow_and_keep_order(raw: list[str]) -> None:
    v = Violations()
    out = check.tags(v, raw, "tags")
    assert len(out) <= len(raw)
    assert len(set(out)) == len(out)
    assert [t for t in dict.fromkeys(r.strip().lower() for r in raw) if t in out] == list(out)
