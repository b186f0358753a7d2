"""Page tokens: a domain cursor as an opaque string on the wire, and back.

A page token is a serialized `maestro.internal.v1.PageToken` followed by an
HMAC-SHA256 tag (base64url). The key is one all replicas share (kept in the
store, made by the first server to start: `store/secrets.py`), so a token
from one replica pages on another, and a token nobody issued is refused
before it is even parsed. It is bound to the RPC and to a hash of the
request's filter: reusing it with a different filter is INVALID_ARGUMENT
(AIP-158). Every decoded field is checked against the key and id kinds the
RPC pages by, so a hand-made token never reaches a store.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import uuid

from google.protobuf.message import DecodeError, Message

from maestro.internal.v1 import page_token_pb2
from maestro_grpc.errors import InvalidArgument
from maestro_grpc.paging import Cursor, IdKind, Key, KeyKind
from maestro_grpc.wire.protoconv import MAX_TIME, MIN_TIME

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000

_EPOCH_MICROS_MAX = int((MAX_TIME - MIN_TIME).total_seconds()) * 1_000_000
_INT64_MAX = 2**63 - 1
_ONEOF = {
    KeyKind.TIME: "last_int",
    KeyKind.COUNT: "last_int",
    KeyKind.NUMBER: "last_double",
    KeyKind.TEXT: "last_text",
}


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


TAG_BYTES = 16


class PageTokens:
    """Issues and checks the page tokens of one deployment (its HMAC key)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("a page-token key needs at least 16 bytes")
        self._secret = secret

    def _tag(self, payload: bytes) -> bytes:
        return hmac.digest(self._secret, payload, "sha256")[:TAG_BYTES]

    def encode(self, method: str, request: Message, cursor: Cursor | None) -> str:
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
        payload = token.SerializeToString()
        signed = payload + self._tag(payload)
        return base64.urlsafe_b64encode(signed).decode().rstrip("=")

    def decode(
        self,
        method: str,
        request: Message,
        token: str,
        *,
        key: KeyKind,
        ids: IdKind = IdKind.UUID,
        field: str = "page_token",
    ) -> Cursor | None:
        """The cursor inside a page token from `request`; INVALID_ARGUMENT if it is not ours."""
        if not token:
            return None
        foreign = InvalidArgument.for_field(field, "is not a page token of this API")
        try:
            signed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise foreign from None
        payload, tag = signed[:-TAG_BYTES], signed[-TAG_BYTES:]
        if len(signed) <= TAG_BYTES or not hmac.compare_digest(tag, self._tag(payload)):
            raise foreign
        return _cursor(method, request, payload, key, ids, field, foreign)


def _cursor(
    method: str,
    request: Message,
    payload: bytes,
    key: KeyKind,
    ids: IdKind,
    field: str,
    foreign: InvalidArgument,
) -> Cursor:
    """The checked cursor of a token whose tag is ours."""
    try:
        parsed = page_token_pb2.PageToken.FromString(payload)
    except DecodeError:
        raise foreign from None
    if parsed.method != method:
        raise InvalidArgument.for_field(field, f"was issued by another RPC, not {method}")
    if parsed.filter_hash != filter_hash(request):
        raise InvalidArgument.for_field(
            field, "was issued for a different filter or order; start again without a token"
        )
    if parsed.WhichOneof("last_key") != _ONEOF[key]:
        raise foreign
    value: Key = getattr(parsed, _ONEOF[key])
    if not (_key_ok(key, value) and _id_ok(ids, parsed.last_id)):
        raise foreign
    return Cursor(key=value, id=parsed.last_id)


def _key_ok(kind: KeyKind, value: Key) -> bool:
    if kind is KeyKind.TIME:
        return isinstance(value, int) and 0 <= value <= _EPOCH_MICROS_MAX
    if kind is KeyKind.COUNT:
        return isinstance(value, int) and 0 <= value <= _INT64_MAX
    if kind is KeyKind.NUMBER:
        return isinstance(value, float) and math.isfinite(value)
    return isinstance(value, str) and "\x00" not in value and len(value) <= 1024


def _id_ok(kind: IdKind, value: str) -> bool:
    if kind is IdKind.INT:
        return value.isascii() and value.isdigit() and len(value) <= 19
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
