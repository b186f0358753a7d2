"""Hypothesis strategies for any protobuf message, built from its descriptor.

A new RPC is fuzzed without new test code: the strategy of its request
follows the request's fields. Values lean towards what breaks servers: empty
and huge strings, NUL and non-BMP characters, UUID-shaped and not, integer
extremes, NaN and infinities, unknown enum numbers, timestamps out of range,
repeated fields a little too long.
"""

from __future__ import annotations

import uuid
from typing import Any

from google.protobuf import descriptor as d
from google.protobuf import message_factory
from google.protobuf.message import Message
from hypothesis import strategies as st

MAX_DEPTH = 3
MAX_REPEATED = 6

_WEIRD_TEXT = st.sampled_from(
    ["", " ", "\x00", "a\x00b", "🦀", "x" * 300, "../../etc/passwd", "'; DROP TABLE projects;--"]
)
_IDS = st.one_of(st.uuids().map(str), st.just(str(uuid.UUID(int=0))), st.just("not-a-uuid"))
_TEXT = st.one_of(st.text(max_size=12), _WEIRD_TEXT, _IDS)
_FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -1.0, 1e308, 0.5])
)


def _int(bits: int, signed: bool) -> st.SearchStrategy[int]:
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    return st.one_of(
        st.integers(low, high), st.sampled_from([low, high, 0, 1, -1 if signed else 2])
    )


_SCALARS: dict[int, st.SearchStrategy[Any]] = {
    d.FieldDescriptor.TYPE_STRING: _TEXT,
    d.FieldDescriptor.TYPE_BYTES: st.binary(max_size=64),
    d.FieldDescriptor.TYPE_BOOL: st.booleans(),
    d.FieldDescriptor.TYPE_DOUBLE: _FLOATS,
    d.FieldDescriptor.TYPE_FLOAT: _FLOATS.map(lambda f: f if abs(f) < 3e38 or f != f else 0.0),
    d.FieldDescriptor.TYPE_INT32: _int(32, True),
    d.FieldDescriptor.TYPE_SINT32: _int(32, True),
    d.FieldDescriptor.TYPE_SFIXED32: _int(32, True),
    d.FieldDescriptor.TYPE_INT64: _int(64, True),
    d.FieldDescriptor.TYPE_SINT64: _int(64, True),
    d.FieldDescriptor.TYPE_SFIXED64: _int(64, True),
    d.FieldDescriptor.TYPE_UINT32: _int(32, False),
    d.FieldDescriptor.TYPE_FIXED32: _int(32, False),
    d.FieldDescriptor.TYPE_UINT64: _int(64, False),
    d.FieldDescriptor.TYPE_FIXED64: _int(64, False),
}


def _enum(field: d.FieldDescriptor) -> st.SearchStrategy[int]:
    assert field.enum_type is not None
    known = [v.number for v in field.enum_type.values]
    return st.one_of(st.sampled_from(known), st.integers(-3, 1000))


def _well_known(descriptor: d.Descriptor) -> st.SearchStrategy[dict[str, Any]] | None:
    name = descriptor.full_name
    if name in {"google.protobuf.Timestamp", "google.protobuf.Duration"}:
        return st.fixed_dictionaries(
            {
                "seconds": st.one_of(st.integers(-(2**40), 2**40), st.integers(0, 2_000_000_000)),
                "nanos": st.one_of(st.integers(0, 999_999_999), st.integers(-5, 2**31 - 1)),
            }
        )
    if name == "google.protobuf.FieldMask":
        return st.fixed_dictionaries({"paths": st.lists(_TEXT, max_size=4)})
    if name == "google.protobuf.Struct":
        # Built through update() (its fields are a map of Value messages).
        return st.fixed_dictionaries(
            {
                "__struct__": st.dictionaries(
                    st.text(max_size=5),
                    st.one_of(_FLOATS, _TEXT, st.booleans(), st.none()),
                    max_size=4,
                )
            }
        )
    return None


def _value(field: d.FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    if field.type == d.FieldDescriptor.TYPE_ENUM:
        return _enum(field)
    if field.message_type is not None:
        return message_values(field.message_type, depth + 1)
    return _SCALARS[field.type]


def message_values(descriptor: d.Descriptor, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """A dict of field values for a message of `descriptor` (fields left out stay unset)."""
    known = _well_known(descriptor)
    if known is not None:
        return known
    if depth >= MAX_DEPTH:
        return st.just({})
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for field in descriptor.fields:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key = _value(field.message_type.fields_by_name["key"], depth)
            value = _value(field.message_type.fields_by_name["value"], depth)
            fields[field.name] = st.dictionaries(key, value, max_size=MAX_REPEATED)
        elif field.is_repeated:
            fields[field.name] = st.lists(_value(field, depth), max_size=MAX_REPEATED)
        else:
            fields[field.name] = _value(field, depth)
    return st.fixed_dictionaries({}, optional=fields)


def build(descriptor: d.Descriptor, values: dict[str, Any]) -> Message:
    """The message of `descriptor` holding `values` (oneofs: the last one set wins)."""
    cls = message_factory.GetMessageClass(descriptor)
    message = cls()
    _fill(message, values)
    return message


def _fill(message: Message, values: dict[str, Any]) -> None:
    if "__struct__" in values:
        message.update(values["__struct__"])  # type: ignore[attr-defined]
        return
    for name, value in values.items():
        field = message.DESCRIPTOR.fields_by_name[name]
        target = getattr(message, name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            for k, v in value.items():
                if value_field.message_type is not None:
                    _fill(target[k], v)
                else:
                    target[k] = v
        elif field.is_repeated:
            for item in value:
                if field.message_type is not None:
                    _fill(target.add(), item)
                else:
                    target.append(item)
        elif field.message_type is not None:
            _fill(target, value)
            target.SetInParent()
        else:
            setattr(message, name, value)
