"""Keyset pagination: cursors for the domain, opaque page tokens for the wire.

A page token is a serialized `maestro.internal.v1.PageToken` (base64url),
bound to the RPC and to a hash of the request's filter: reusing it with a
different filter is INVALID_ARGUMENT (AIP-158).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Generic, TypeVar

from google.protobuf.message import DecodeError, Message

from maestro.internal.v1 import page_token_pb2
from maestro_grpc.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000

T = TypeVar("T")
Key = str | float | int


@dataclass(frozen=True)
class Cursor:
    """The sort key and id of the last row of a page; the next page starts after it."""

    key: Key
    id: str


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: Cursor | None
    total_size: int | None = None


def page_size(value: int, field: str = "page_size", maximum: int = MAX_PAGE_SIZE) -> int:
    """Validate a requested page size: 0 means the default, the maximum is enforced."""
    if value < 0:
        raise InvalidArgument.for_field(field, "must not be negative")
    if value > maximum:
        raise InvalidArgument.for_field(field, f"must be at most {maximum}")
    return value or min(DEFAULT_PAGE_SIZE, maximum)


def filter_hash(request: Message, *ignore: str) -> bytes:
    """A hash of the request with the paging fields (and `ignore`) cleared."""
    copy = type(request)()
    copy.CopyFrom(request)
    for name in ("page_size", "page_token", *ignore):
        copy.ClearField(name)
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).digest()[:16]


def encode(method: str, request: Message, cursor: Cursor | None) -> str:
    """The page token to return for `cursor` (empty when there is no next page)."""
    if cursor is None:
        return ""
    token = page_token_pb2.PageToken(
        method=method, filter_hash=filter_hash(request), last_id=cursor.id
    )
    if isinstance(cursor.key, str):
        token.last_text = cursor.key
    elif isinstance(cursor.key, float):
        token.last_double = cursor.key
    else:
        token.last_int = cursor.key
    return base64.urlsafe_b64encode(token.SerializeToString()).decode().rstrip("=")


def decode(method: str, request: Message, token: str, field: str = "page_token") -> Cursor | None:
    """The cursor inside a page token from `request`; INVALID_ARGUMENT if it is not ours."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        parsed = page_token_pb2.PageToken.FromString(raw)
    except (binascii.Error, ValueError, DecodeError):
        raise InvalidArgument.for_field(field, "is not a page token of this API") from None
    if parsed.method != method:
        raise InvalidArgument.for_field(field, f"was issued by another RPC, not {method}")
    if parsed.filter_hash != filter_hash(request):
        raise InvalidArgument.for_field(
            field, "was issued for a different filter or order; start again without a token"
        )
    which = parsed.WhichOneof("last_key")
    if which is None or not parsed.last_id:
        raise InvalidArgument.for_field(field, "is not a page token of this API")
    key: Key = getattr(parsed, which)
    return Cursor(key=key, id=parsed.last_id)
