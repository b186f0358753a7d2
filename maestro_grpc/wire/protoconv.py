"""Conversions between protobuf well-known types and plain Python, with validation.

Servicers use these to parse requests; every failure is an InvalidArgument
naming the field.
"""

from __future__ import annotations

import enum
import hashlib
import math
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from google.protobuf import duration_pb2, field_mask_pb2, struct_pb2, timestamp_pb2
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from maestro_grpc.errors import InvalidArgument, Violations

E = TypeVar("E", bound=enum.Enum)

# Timestamps outside this range are almost certainly mistakes (and some are
# not representable by both stores).
MIN_TIME = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(9999, 12, 31, tzinfo=UTC)


def parse_uuid(value: str, field: str, *, required: bool = True) -> uuid.UUID | None:
    """A UUID from its string form; malformed is INVALID_ARGUMENT."""
    if not value:
        if required:
            raise InvalidArgument.for_field(field, "is required")
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument.for_field(field, f"{value[:64]!r} is not a UUID") from None


def require_uuid(value: str, field: str) -> uuid.UUID:
    parsed = parse_uuid(value, field, required=True)
    assert parsed is not None
    return parsed


NIL_UUID = uuid.UUID(int=0)


def uuid_field(v: Violations, value: str, field: str) -> uuid.UUID:
    """A required UUID field; a bad one is recorded in `v` (the nil UUID stands in for it)."""
    return v.take(lambda: require_uuid(value, field), NIL_UUID)


def optional_uuid_field(v: Violations, value: str, field: str) -> uuid.UUID | None:
    """An optional UUID field (empty: None); a bad one is recorded in `v`."""
    return v.take(lambda: parse_uuid(value, field, required=False), None)


def opt_time(owner: Message, name: str, field: str) -> datetime | None:
    """The Timestamp field `name` of `owner` as an aware UTC datetime; None when unset."""
    if not owner.HasField(name):
        return None
    ts = getattr(owner, name)
    assert isinstance(ts, timestamp_pb2.Timestamp)
    return timestamp_to_datetime(ts, field)


def timestamp_to_datetime(ts: timestamp_pb2.Timestamp, field: str) -> datetime:
    if not 0 <= ts.nanos < 1_000_000_000:
        raise InvalidArgument.for_field(field, "nanos must be in [0, 1e9)")
    try:
        value = datetime.fromtimestamp(ts.seconds, tz=UTC) + timedelta(
            microseconds=ts.nanos // 1000
        )
    except (OverflowError, OSError, ValueError):
        raise InvalidArgument.for_field(field, "is out of range") from None
    if not MIN_TIME <= value <= MAX_TIME:
        raise InvalidArgument.for_field(field, "must be between 1970 and 9999")
    return value


def from_datetime(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts


def set_timestamp(target: timestamp_pb2.Timestamp, value: datetime | None) -> None:
    if value is not None:
        target.FromDatetime(value)


def duration_to_timedelta(d: duration_pb2.Duration, field: str) -> timedelta:
    if d.seconds < 0 or d.nanos < 0:
        raise InvalidArgument.for_field(field, "must not be negative")
    try:
        return d.ToTimedelta()
    except (OverflowError, ValueError):
        raise InvalidArgument.for_field(field, "is out of range") from None


def enum_from_proto(
    domain: type[E],
    wrapper: EnumTypeWrapper,
    value: int,
    field: str,
    *,
    prefix: str,
    allow_unspecified: bool = False,
) -> E | None:
    """Map a proto enum number to the domain enum of the same name (prefix stripped)."""
    try:
        name = wrapper.Name(value)
    except ValueError:
        raise InvalidArgument.for_field(field, f"{value} is not a known value") from None
    short = name.removeprefix(prefix)
    if short == "UNSPECIFIED":
        if allow_unspecified:
            return None
        raise InvalidArgument.for_field(field, "is required (UNSPECIFIED given)")
    try:
        return domain[short]
    except KeyError:
        raise InvalidArgument.for_field(field, f"{name} is not supported") from None


def enum_to_proto(wrapper: EnumTypeWrapper, value: enum.Enum | None, *, prefix: str) -> int:
    if value is None:
        return 0
    return int(wrapper.Value(prefix + value.name))


def enum_list_from_proto(
    domain: type[E], wrapper: EnumTypeWrapper, values: Iterable[int], field: str, *, prefix: str
) -> list[E]:
    out: list[E] = []
    for i, value in enumerate(values):
        parsed = enum_from_proto(domain, wrapper, value, f"{field}[{i}]", prefix=prefix)
        assert parsed is not None
        if parsed not in out:
            out.append(parsed)
    return out


def mask_paths(mask: field_mask_pb2.FieldMask, allowed: Iterable[str], field: str) -> list[str]:
    """The paths of an update mask, each one checked against the updatable fields."""
    allowed_set = set(allowed)
    paths: list[str] = []
    for i, path in enumerate(mask.paths):
        if path not in allowed_set:
            raise InvalidArgument.for_field(
                f"{field}.paths[{i}]",
                f"{path!r} cannot be updated; updatable: {', '.join(sorted(allowed_set))}",
            )
        if path not in paths:
            paths.append(path)
    return paths


def struct_to_dict(value: struct_pb2.Struct, field: str) -> dict[str, Any]:
    """A Struct as plain JSON values; NaN or an infinity (JSON has neither) is INVALID_ARGUMENT."""
    try:
        return MessageToDict(value)
    except ValueError:
        raise InvalidArgument.for_field(
            field, "must hold finite numbers only (no NaN or infinity)"
        ) from None


def request_fingerprint(request: Message) -> str:
    """What identifies a request for idempotency: everything but its request_id."""
    copy = type(request)()
    copy.CopyFrom(request)
    copy.ClearField("request_id")
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


def check_finite(value: float, field: str) -> float:
    if not math.isfinite(value):
        raise InvalidArgument.for_field(field, "must be a finite number")
    return value
