"""Rules for the registry's request fields: formats, lengths, ranges, normalisation.

Each check adds to a `Violations` with the request field path, so a request
with three mistakes hears about all three. Only what a request shows on its
own is checked here; rules that depend on stored state (an update's end
time against the stored start time) are the domain's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from maestro_grpc.errors import Violations
from maestro_grpc.wire.checks import bounded, has_nul, number, request_id, skills, text

__all__ = [
    "labels",
    "metadata",
    "not_before",
    "number",
    "request_id",
    "sha256",
    "skills",
    "storage_uri",
    "tags",
    "text",
    "url",
    "version",
]

LABEL_KEY = re.compile(r"^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$")
TAG = re.compile(r"^[a-z0-9][a-z0-9._:/-]{0,99}$")
VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")

MAX_TAGS = 100
MAX_LABELS = 64
MAX_METADATA_BYTES = 64 * 1024
MAX_DESCRIPTION = 10_000


def labels(v: Violations, value: Mapping[str, str], field: str) -> dict[str, str]:
    if not bounded(v, value, field, MAX_LABELS):
        return {}
    out: dict[str, str] = {}
    for key in sorted(value):
        if not LABEL_KEY.match(key):
            v.add(f"{field}[{key[:63]!r}]", "key must be 1-63 characters of [a-z0-9._/-]")
        elif len(value[key]) > 256:
            v.add(f"{field}[{key!r}]", "value is longer than 256 characters")
        elif has_nul(value[key]):
            v.add(f"{field}[{key!r}]", "value must not contain NUL characters")
        else:
            out[key] = value[key]
    return out


def tags(
    v: Violations, value: Sequence[str], field: str, *, max_count: int = MAX_TAGS
) -> tuple[str, ...]:
    """Lower-case and de-duplicate tags, keeping their order (at most `max_count` given)."""
    if not bounded(v, value, field, max_count):
        return ()
    out: dict[str, None] = {}
    for i, raw in enumerate(value):
        tag = raw.strip().lower()
        if not TAG.match(tag):
            v.add(
                f"{field}[{i}]", f"{raw[:100]!r} is not a tag (1-100 characters of [a-z0-9._:/-])"
            )
        else:
            out.setdefault(tag)
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


def storage_uri(v: Violations, value: str, field: str) -> str:
    """Where content lives outside Maestro: a URL with a scheme and a host (s3://bucket/key,
    https://...). Never a local path, and never an address of the server's own blobs:
    those only the server sets, when it stores uploaded bytes."""
    value = text(v, value, field, max_len=2000)
    if not value:
        return value
    parsed = urlparse(value)
    if parsed.scheme in {"file", "maestro-blob"} or not parsed.scheme or not parsed.netloc:
        v.add(field, "must be a URL of content stored elsewhere (scheme://host/...), not a path")
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
    try:
        dumped = json.dumps(value, separators=(",", ":"), default=str, allow_nan=False)
    except ValueError:
        # JSON has no NaN or infinity (PostgreSQL's jsonb refuses them).
        v.add(field, "must hold finite numbers only (no NaN or infinity)")
        return value
    if len(dumped) > MAX_METADATA_BYTES:
        v.add(field, f"is {len(dumped)} bytes serialized; at most {MAX_METADATA_BYTES}")
    elif "\\u0000" in dumped:  # a NUL, escaped: jsonb refuses it
        v.add(field, "must not contain NUL characters")
    return value


def not_before(
    v: Violations, earlier: datetime | None, later: datetime | None, field: str, what: str
) -> None:
    """`later` (the field) must not be before `earlier`, when both are given."""
    if earlier is not None and later is not None and later < earlier:
        v.add(field, f"must not be before {what}")
