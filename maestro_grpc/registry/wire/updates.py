"""Update RPCs (AIP-134): the fields an update mask names, parsed and validated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf.field_mask_pb2 import FieldMask

from maestro_grpc.errors import InvalidArgument, Violations
from maestro_grpc.wire.protoconv import mask_paths


def changes(
    mask: FieldMask,
    updatable: tuple[str, ...],
    prefix: str,
    parse: Callable[[Violations], tuple[Any, set[str]]],
    *,
    required_enum: tuple[str, int],
) -> dict[str, Any]:
    """The new values of an update's fields, validated.

    The mask names the fields; an empty mask means every field the message
    sets. Only the updated fields' violations count, and an updated enum
    must not be UNSPECIFIED.
    """
    paths = mask_paths(mask, updatable, "update_mask")
    v = Violations()
    fields, present = parse(v)
    if not paths:
        paths = sorted(present)
    if not paths:
        raise InvalidArgument.for_field(
            "update_mask", f"names no field to update, and {prefix} sets none"
        )
    _keep_masked(v, paths, prefix)
    enum_field, enum_value = required_enum
    if enum_field in paths and enum_value == 0:
        v.add(f"{prefix}.{enum_field}", "is required (UNSPECIFIED given)")
    v.raise_if_any()
    return {p: getattr(fields, p) for p in paths}


def _keep_masked(v: Violations, paths: list[str], prefix: str) -> None:
    """Keep only the violations of fields being updated (an update leaves the others alone)."""
    keep = [
        item
        for item in v.items
        if any(
            item.field == f"{prefix}.{p}"
            or item.field.startswith(f"{prefix}.{p}[")
            or item.field.startswith(f"{prefix}.{p}.")
            for p in paths
        )
        or not item.field.startswith(f"{prefix}.")
    ]
    v.items[:] = keep
