"""Opaque page tokens: round trip, binding to the filter and RPC, tampering, kinds."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maestro.internal.v1 import page_token_pb2
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro_grpc.errors import InvalidArgument
from maestro_grpc.paging import Cursor, IdKind, Key, KeyKind
from maestro_grpc.wire import pagetoken as pagination

ID = str(uuid.UUID(int=7))


@given(
    key=st.one_of(
        st.floats(allow_nan=False, allow_infinity=False).map(lambda f: (KeyKind.NUMBER, f)),
        st.integers(min_value=0, max_value=2**63 - 1).map(lambda i: (KeyKind.COUNT, i)),
        st.integers(min_value=0, max_value=253_402_214_400_000_000).map(
            lambda i: (KeyKind.TIME, i)
        ),
    ),
    last_id=st.uuids().map(str),
)
def test_round_trip(key: tuple[KeyKind, Key], last_id: str) -> None:
    kind, value = key
    request = rs.SearchArtifactsRequest(tags_any=["nlp"], page_size=10)
    token = pagination.encode("SearchArtifacts", request, Cursor(key=value, id=last_id))
    following = rs.SearchArtifactsRequest(tags_any=["nlp"], page_size=20, page_token=token)
    decoded = pagination.decode("SearchArtifacts", following, token, key=kind)
    assert decoded == Cursor(key=value, id=last_id)


def test_no_cursor_no_token() -> None:
    assert pagination.encode("ListProjects", rs.ListProjectsRequest(), None) == ""
    assert pagination.decode("ListProjects", rs.ListProjectsRequest(), "", key=KeyKind.TIME) is None


def test_token_is_opaque() -> None:
    token = pagination.encode("ListProjects", rs.ListProjectsRequest(), Cursor(key=12345, id=ID))
    assert "12345" not in token
    assert "offset" not in token


@pytest.mark.parametrize(
    "token", ["!!!", "AAAA", base64.urlsafe_b64encode(b"\xff\xff\xff").decode(), "x" * 7]
)
def test_garbage_is_invalid_argument(token: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        pagination.decode("ListProjects", rs.ListProjectsRequest(), token, key=KeyKind.TIME)
    assert caught.value.violations[0].field == "page_token"


def _forged(request: rs.ListProjectsRequest, last_id: str, **key: Any) -> str:
    """A token as a client could forge it: any key fields, a valid filter hash."""
    token = page_token_pb2.PageToken(
        method="ListProjects", filter_hash=pagination.filter_hash(request), last_id=last_id, **key
    )
    return base64.urlsafe_b64encode(token.SerializeToString()).decode()


@pytest.mark.parametrize(
    ("key", "last_id"),
    [
        ({"last_text": "2026"}, ID),  # a text key where times are paged
        ({"last_double": 1.5}, ID),
        ({"last_int": -1}, ID),  # before 1970
        ({"last_int": 2**63 - 1}, ID),  # past 9999
        ({"last_int": 10}, "not-a-uuid"),
        ({"last_int": 10}, ""),
        ({}, ID),  # no key at all
    ],
)
def test_forged_token_with_the_right_hash_is_refused(key: dict[str, object], last_id: str) -> None:
    """A hand-built token bound to the right RPC and filter still has to hold what we page by."""
    request = rs.ListProjectsRequest()
    token = _forged(request, last_id, **key)
    with pytest.raises(InvalidArgument, match="not a page token") as caught:
        pagination.decode("ListProjects", request, token, key=KeyKind.TIME)
    assert caught.value.violations[0].field == "page_token"


@pytest.mark.parametrize(
    ("kind", "key", "ok"),
    [
        (KeyKind.NUMBER, {"last_double": float("nan")}, False),
        (KeyKind.NUMBER, {"last_double": float("inf")}, False),
        (KeyKind.NUMBER, {"last_double": -2.5}, True),
        (KeyKind.COUNT, {"last_int": 0}, True),
        (KeyKind.COUNT, {"last_int": -3}, False),
        (KeyKind.TEXT, {"last_text": "a\x00b"}, False),
        (KeyKind.TEXT, {"last_text": "abc"}, True),
    ],
)
def test_key_kinds_are_checked(kind: KeyKind, key: dict[str, object], ok: bool) -> None:
    request = rs.ListProjectsRequest()
    token = _forged(request, ID, **key)
    if ok:
        assert pagination.decode("ListProjects", request, token, key=kind) is not None
    else:
        with pytest.raises(InvalidArgument):
            pagination.decode("ListProjects", request, token, key=kind)


@pytest.mark.parametrize(("last_id", "ok"), [("42", True), ("-1", False), ("4" * 20, False)])
def test_integer_ids(last_id: str, ok: bool) -> None:
    request = rs.ListProjectsRequest()
    token = _forged(request, last_id, last_int=42)
    if ok:
        cursor = pagination.decode(
            "ListProjects", request, token, key=KeyKind.COUNT, ids=IdKind.INT
        )
        assert cursor == Cursor(key=42, id="42")
    else:
        with pytest.raises(InvalidArgument):
            pagination.decode("ListProjects", request, token, key=KeyKind.COUNT, ids=IdKind.INT)


def test_token_binds_filter_and_rpc() -> None:
    request = rs.ListProjectsRequest(labels={"team": "a"})
    token = pagination.encode("ListProjects", request, Cursor(key=1, id=ID))
    with pytest.raises(InvalidArgument, match="different filter"):
        pagination.decode(
            "ListProjects", rs.ListProjectsRequest(labels={"team": "b"}), token, key=KeyKind.TIME
        )
    with pytest.raises(InvalidArgument, match="another RPC"):
        pagination.decode("ListTeamMembers", request, token, key=KeyKind.TIME)


@pytest.mark.parametrize(("value", "expected"), [(0, 50), (1, 1), (1000, 1000)])
def test_page_size(value: int, expected: int) -> None:
    assert pagination.page_size(value) == expected


@pytest.mark.parametrize("value", [-1, 1001])
def test_page_size_out_of_range(value: int) -> None:
    with pytest.raises(InvalidArgument):
        pagination.page_size(value)
