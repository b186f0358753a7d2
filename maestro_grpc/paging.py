"""Keyset pages as the domain sees them: a cursor after the last row, and a page.

The wire turns a cursor into an opaque page token and back
(`wire/pagetoken.py`); each store turns it into a WHERE clause
(`store/keyset.py`). Both ends know the cursor's key kind, so a token that
decodes to the wrong kind is refused at the wire.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
Key = str | float | int


class KeyKind(enum.Enum):
    """What a cursor's sort key holds."""

    TIME = "time"  # int: microseconds since the Unix epoch
    NUMBER = "number"  # float: finite
    COUNT = "count"  # int: a non-negative integer (counts, versions)
    TEXT = "text"  # str


class IdKind(enum.Enum):
    """What a cursor's tie-breaking id holds."""

    UUID = "uuid"
    INT = "int"


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
    # True when total_size stopped counting at a limit: at least that many.
    total_is_lower_bound: bool = False
