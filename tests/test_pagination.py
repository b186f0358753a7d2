"""Opaque page tokens: round trip, binding to the filter and RPC, tampering."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maestro.registry.v1 import registry_service_pb2 as rs
from maestro_grpc import pagination
from maestro_grpc.errors import InvalidArgument
from maestro_grpc.pagination import Cursor


@given(
    key=st.one_of(
        st.text(max_size=50),
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
    ),
    last_id=st.uuids().map(str),
)
def test_round_trip(key: str | float | int, last_id: str) -> None:
    request = rs.SearchArtifactsRequest(tags_any=["nlp"], page_size=10)
    token = pagination.encode("SearchArtifacts", request, Cursor(key=key, id=last_id))
    following = rs.SearchArtifactsRequest(tags_any=["nlp"], page_size=20, page_token=token)
    assert pagination.decode("SearchArtifacts", following, token) == Cursor(key=key, id=last_id)


def test_no_cursor_no_token() -> None:
    assert pagination.encode("ListProjects", rs.ListProjectsRequest(), None) == ""
    assert pagination.decode("ListProjects", rs.ListProjectsRequest(), "") is None


def test_token_is_opaque() -> None:
    token = pagination.encode("ListProjects", rs.ListProjectsRequest(), Cursor(key=12345, id="x"))
    assert "12345" not in token
    assert "offset" not in token


@pytest.mark.parametrize(
    "token", ["!!!", "AAAA", base64.urlsafe_b64encode(b"\xff\xff\xff").decode(), "x" * 7]
)
def test_garbage_is_invalid_argument(token: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        pagination.decode("ListProjects", rs.ListProjectsRequest(), token)
    assert caught.value.violations[0].field == "page_token"


def test_token_binds_filter_and_rpc() -> None:
    request = rs.ListProjectsRequest(labels={"team": "a"})
    token = pagination.encode("ListProjects", request, Cursor(key=1, id="x"))
    with pytest.raises(InvalidArgument, match="different filter"):
        pagination.decode("ListProjects", rs.ListProjectsRequest(labels={"team": "b"}), token)
    with pytest.raises(InvalidArgument, match="another RPC"):
        pagination.decode("ListTeamMembers", request, token)


@pytest.mark.parametrize(("value", "expected"), [(0, 50), (1, 1), (1000, 1000)])
def test_page_size(value: int, expected: int) -> None:
    assert pagination.page_size(value) == expected


@pytest.mark.parametrize("value", [-1, 1001])
def test_page_size_out_of_range(value: int) -> None:
    with pytest.raises(InvalidArgument):
        pagination.page_size(value)
