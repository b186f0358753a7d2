"""Keyset pages in SQL: the WHERE clause after a cursor, and the cursor after a page.

Every list of the API pages by (sort key, id), ascending or descending; the
rows after a cursor are those strictly beyond it in that order, so rows
added meanwhile never shift a page. The wire has already checked the
cursor's kinds (`wire/pagetoken.py`), so converting it here cannot fail.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, or_

from maestro_grpc.clock import from_micros, to_micros
from maestro_grpc.paging import Cursor, IdKind, Key, KeyKind

R = TypeVar("R")


@dataclass(frozen=True)
class Keyset:
    """How one list is ordered: its key column, id column, kinds and direction."""

    key: Any
    id: Any
    key_kind: KeyKind
    descending: bool = False
    id_kind: IdKind = IdKind.UUID

    def order_by(self) -> tuple[Any, Any]:
        if self.descending:
            return self.key.desc(), self.id.desc()
        return self.key.asc(), self.id.asc()

    def after(self, cursor: Cursor | None) -> ColumnElement[bool] | None:
        """The condition for rows after `cursor` (None: no cursor, every row)."""
        if cursor is None:
            return None
        key = _sql_key(self.key_kind, cursor.key)
        last_id: Any = uuid.UUID(cursor.id) if self.id_kind is IdKind.UUID else int(cursor.id)
        if self.descending:
            return or_(self.key < key, and_(self.key == key, self.id < last_id))
        return or_(self.key > key, and_(self.key == key, self.id > last_id))

    def page(
        self,
        rows: Sequence[R],
        page_size: int,
        key_of: Callable[[R], Any],
        id_of: Callable[[R], Any],
    ) -> tuple[list[R], Cursor | None]:
        """The page's rows (of `page_size` + 1 fetched) and the cursor after them."""
        items = list(rows[:page_size])
        if len(rows) <= page_size or not items:
            return items, None
        last = items[-1]
        return items, Cursor(key=_cursor_key(self.key_kind, key_of(last)), id=str(id_of(last)))


def _sql_key(kind: KeyKind, value: Key) -> Any:
    if kind is KeyKind.TIME:
        return from_micros(int(value))
    if kind is KeyKind.NUMBER:
        return float(value)
    if kind is KeyKind.COUNT:
        return int(value)
    return str(value)


def _cursor_key(kind: KeyKind, value: Any) -> Key:
    if kind is KeyKind.TIME:
        assert isinstance(value, datetime)
        return to_micros(value)
    if kind is KeyKind.NUMBER:
        return float(value)
    if kind is KeyKind.COUNT:
        return int(value)
    return str(value)
