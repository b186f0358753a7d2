"""Field checks every context's request validation shares: text, numbers, skills, request ids.

Each check adds to a `Violations` with the request field path, so a request
with three mistakes hears about all three. A context's own rules (its
names, tags, formats) stay in its `wire/validation.py`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from maestro_grpc.errors import Violations

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
MAX_SKILLS = 100


def text(v: Violations, value: str, field: str, *, max_len: int, required: bool = False) -> str:
    """A free-text field: stripped when required, bounded, without NUL characters."""
    value = value.strip() if required else value
    if required and not value:
        v.add(field, "is required")
    elif len(value) > max_len:
        v.add(field, f"is longer than {max_len} characters")
    elif "\x00" in value:
        v.add(field, "must not contain NUL characters")
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
    """A finite number in [low, high] (or (low, high] with `low_open`)."""
    if not math.isfinite(value):
        v.add(field, "must be a finite number")
    elif value < low or (low_open and value == low) or value > high:
        bracket = "(" if low_open else "["
        v.add(field, f"must be in {bracket}{low:g}, {high:g}]")
    return value


def skills(v: Violations, value: Iterable[str], field: str) -> tuple[str, ...]:
    """Lower-cased, de-duplicated skills, in their order."""
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


def request_id(v: Violations, value: str, field: str = "request_id") -> str:
    """An optional AIP-155 request id."""
    if value and not REQUEST_ID.match(value):
        v.add(field, "must be 1-100 characters of [A-Za-z0-9._:-]")
    return value
