"""Rules for metric names, labels, request ids and producer ids, as requests must meet them."""

from __future__ import annotations

import json
import re

from maestro_grpc.errors import Violations
from maestro_grpc.wire.checks import has_nul

NAME_RE = re.compile(r"[a-z0-9_.:-]{1,200}")
LABEL_KEY_RE = re.compile(r"[a-z0-9_.-]{1,63}")
PRODUCER_RE = re.compile(r"[A-Za-z0-9._:/@-]{1,200}")
MAX_LABELS = 16
MAX_LABEL_VALUE = 256
MAX_REQUEST_ID = 100


def name_problem(name: str) -> str | None:
    """Why `name` is not a valid metric name, or None."""
    if not name:
        return "is required"
    if NAME_RE.fullmatch(name) is None:
        return f"{name[:64]!r} is not 1-200 characters of [a-z0-9_.:-]"
    return None


def labels_problem(labels: dict[str, str]) -> tuple[str, str] | None:
    """(key, why) for the first bad label, ("", why) for the set, or None."""
    if len(labels) > MAX_LABELS:
        return "", f"has {len(labels)} labels; at most {MAX_LABELS}"
    for key in sorted(labels):
        if LABEL_KEY_RE.fullmatch(key) is None:
            return key, f"key {key[:64]!r} is not 1-63 characters of [a-z0-9_.-]"
        if len(labels[key]) > MAX_LABEL_VALUE:
            return key, f"value is longer than {MAX_LABEL_VALUE} characters"
        if has_nul(labels[key]):
            return key, "value must not contain NUL characters"
    return None


def canonical_labels(labels: dict[str, str]) -> str:
    """The stored form of a label set: JSON with sorted keys and no spaces."""
    if not labels:
        return "{}"
    return json.dumps(labels, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_id(v: Violations, value: str, field: str = "request_id") -> None:
    if len(value) > MAX_REQUEST_ID:
        v.add(field, f"must be at most {MAX_REQUEST_ID} characters")
    elif has_nul(value):
        v.add(field, "must not contain NUL characters")


def name_prefix(v: Violations, value: str, field: str = "name_prefix") -> None:
    if len(value) > 200:
        v.add(field, "must be at most 200 characters")
    elif has_nul(value):
        v.add(field, "must not contain NUL characters")


def producer_problem(producer_id: str) -> str | None:
    if not producer_id:
        return "is required"
    if PRODUCER_RE.fullmatch(producer_id) is None:
        return "must be 1-200 characters of [A-Za-z0-9._:/@-]"
    return None
