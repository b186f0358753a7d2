"""Rules for the registry's request fields: formats, lengths, ranges, normalisation.

Each check adds to a `Violations` with the request field path, so a request
with three mistakes hears about all three. Only what a request shows on its
own is checked here; rules that depend on stored state (an update's end
time against the stored start time) are the domain's.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from maestro_grpc.errors import Violations

LABEL_KEY = re.compile(r"^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$")
TAG = re.compile(r"^[a-z0-9][a-z0-9._:/-]{0,99}$")
VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")

MAX_TAGS = 100
MAX_LABELS = 64
MAX_SKILLS = 100
MAX_METADATA_BYTES = 64 * 1024
MAX_DESCRIPTION = 10_000


def text(v: Violations, value: str, field: str, *, max_len: int, required: bool = False) -> str:
    value = value.strip() if required else value
    if required and not value:
        v.add(field, "is required")
    elif len(value) > max_len:
        v.add(field, f"is longer than {max_len} characters")
    elif "\x00" in value:
        v.add(field, "must not contain NUL characters")
    return value


def labels(v: Violations, value: Mapping[str, str], field: str) -> dict[str, str]:
    if len(value) > MAX_LABELS:
        v.add(field, f"has more than {MAX_LABELS} labels")
    out: dict[str, str] = {}
    for key in sorted(value):
        if not LABEL_KEY.match(key):
            v.add(f"{field}[{key[:63]!r}]", "key must be 1-63 characters of [a-z0-9._/-]")
        elif len(value[key]) > 256:
            v.add(f"{field}[{key!r}]", "value is longer than 256 characters")
        else:
            out[key] = value[key]
    return out


def tags(
    v: Violations, value: Iterable[str], field: str, *, max_count: int = MAX_TAGS
) -> tuple[str, ...]:
    """Lower-case and de-duplicate tags, keeping their order."""
    out: list[str] = []
    for i, raw in enumerate(value):
        tag = raw.strip().lower()
        if not TAG.match(tag):
            v.add(
                f"{field}[{i}]", f"{raw[:100]!r} is not a tag (1-100 characters of [a-z0-9._:/-])"
            )
        elif tag not in out:
            out.append(tag)
    if len(out) > max_count:
        v.add(field, f"has more than {max_count} entries")
    return tuple(out)


def skills(v: Violations, value: Iterable[str], field: str) -> tuple[str, ...]:
    out: list[str] = []
    for i, raw in enumerate(value):
        skill = raw.strip().lower()
        if not skill or len(skill) > 100:
            v.add(f"{field}[{i}]", "must be 1-100 characters")
        elif skill not in out:
            out.append(skill)
    if len(out) > MAX_SKILLS:
        v.add(field, f"has more than {MAX_SKILLS} entries")
    return tuple(out)


def url(v: Violations, value: str, field: str) -> str:
    value = value.strip()
    if not value:
        return value
    if len(value) > 2000:
        v.add(field, "is longer than 2000 characters")
        return value
    if value.startswith("git@"):
        return value
    parsed = urlparse(value)
    if parsed.scheme not in {"http", "https", "ssh", "git", "file"} or not (
        parsed.netloc or parsed.scheme == "file"
    ):
        v.add(field, "must be an http(s), ssh, git or file URL")
    return value


def number(
    v: Violations,
    value: float,
    field: str,
    *,
    low: float,
    high: float,
    low_open: bool = False,
) -> float:
    if not math.isfinite(value):
        v.add(field, "must be a finite number")
    elif value < low or (low_open and value == low) or value > high:
        bracket = "(" if low_open else "["
        v.add(field, f"must be in {bracket}{low:g}, {high:g}]")
    return value


def version(v: Violations, value: str, field: str) -> str:
    value = value.strip()
    if not value:
        v.add(field, "is required")
    elif not VERSION.match(value):
        v.add(field, "must be 1-100 characters of [A-Za-z0-9._+-], starting with a letter or digit")
    return value


def sha256(v: Violations, value: str, field: str) -> str:
    value = value.strip().lower()
    if value and not SHA256.match(value):
        v.add(field, "must be 64 lower-case hex digits")
    return value


def metadata(v: Violations, value: dict[str, Any], field: str) -> dict[str, Any]:
    size = len(json.dumps(value, separators=(",", ":"), default=str))
    if size > MAX_METADATA_BYTES:
        v.add(field, f"is {size} bytes serialized; at most {MAX_METADATA_BYTES}")
    return value


def request_id(v: Violations, value: str, field: str = "request_id") -> str:
    if value and not REQUEST_ID.match(value):
        v.add(field, "must be 1-100 characters of [A-Za-z0-9._:-]")
    return value


def not_before(
    v: Violations, earlier: datetime | None, later: datetime | None, field: str, what: str
) -> None:
    """`later` (the field) must not be before `earlier`, when both are given."""
    if earlier is not None and later is not None and later < earlier:
        v.add(field, f"must not be before {what}")
