"""Field checks every context's request validation shares: text, numbers, skills, request ids.

Each check adds to a `Violations` with the request field path, so a request
with three mistakes hears about all three. A context's own rules (its
names, tags, formats) stay in its `wire/validation.py`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence, Sized

from maestro_grpc.errors import Violations

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
MAX_SKILLS = 100


def has_nul(value: str) -> bool:
    """PostgreSQL cannot store NUL in text (SQLite can): both refuse it, alike."""
    return "\x00" in value


def bounded(v: Violations, values: Sized, field: str, most: int) -> bool:
    """Whether a repeated field holds at most `most` entries (else a violation, and no
    per-entry work: a 100,000-entry request is refused at once)."""
    if len(values) > most:
        v.add(field, f"has {len(values)} entries; at most {most}")
        return False
    return True


def text(v: Violations, value: str, field: str, *, max_len: int, required: bool = False) -> str:
    """A free-text field: stripped when required, bounded, without NUL characters."""
    value = value.strip() if required else value
    if required and not value:
        v.add(field, "is required")
    elif len(value) > max_len:
        v.add(field, f"is longer than {max_len} characters")
    elif has_nul(value):
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


def skills(v: Violations, value: Sequence[str], field: str) -> tuple[str, ...]:
    """Lower-cased, de-duplicated skills, in their order (at most MAX_SKILLS given)."""
    if not bounded(v, value, field, MAX_SKILLS):
        return ()
    out: dict[str, None] = {}
    for i, raw in enumerate(value):
        skill = raw.strip().lower()
        if not skill or len(skill) > 100:
            v.add(f"{field}[{i}]", "must be 1-100 characters")
        elif has_nul(skill):
            v.add(f"{field}[{i}]", "must not contain NUL characters")
        else:
            out.setdefault(skill)
    return tuple(out)


def request_id(v: Violations, value: str, field: str = "request_id") -> str:
    """An optional AIP-155 request id."""
    if value and not REQUEST_ID.match(value):
        v.add(field, "must be 1-100 characters of [A-Za-z0-9._:-]")
    return value
