"""Where PostgreSQL and SQLite differ, one function with two honest implementations.

Both sides of each function are exercised by the same tests on both stores,
which check they return the same rows for the same data.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select
from sqlalchemy.types import Text, Uuid


def insert(conn: AsyncConnection | str, table: Table) -> PgInsert | SqliteInsert:
    """The dialect's INSERT for `table` (both offer ON CONFLICT and RETURNING).

    `conn` is the connection the statement runs on, or the dialect's name.
    """
    name = conn if isinstance(conn, str) else conn.dialect.name
    return pg_insert(table) if name == "postgresql" else sqlite_insert(table)


def tags_any(table: Table, column: str, values: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """Rows whose tag list shares at least one value with `values`."""
    col = table.c[column]
    if dialect == "postgresql":
        # `&&` uses the GIN index.
        return col.op("&&")(bindparam(None, list(values), type_=ARRAY(Text())))
    each = func.json_each(col).table_valued("value")
    return exists(
        select(literal_column("1")).select_from(each).where(each.c.value.in_(list(values)))
    )


def tags_all(table: Table, column: str, values: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """Rows whose tag list contains every one of `values`."""
    col = table.c[column]
    distinct = sorted(set(values))
    if dialect == "postgresql":
        # `@>` uses the GIN index.
        return col.op("@>")(bindparam(None, distinct, type_=ARRAY(Text())))
    each = func.json_each(col).table_valued("value")
    matched = (
        select(func.count(func.distinct(each.c.value)))
        .select_from(each)
        .where(each.c.value.in_(distinct))
        .scalar_subquery()
    )
    return matched == len(distinct)


def tag_counts(
    table: Table,
    column: str,
    conditions: Sequence[ColumnElement[bool]],
    dialect: str,
    *,
    limit: int,
) -> Select[tuple[str, int]]:
    """The most frequent tags of the rows that meet `conditions`: (tag, count), top first."""
    col = table.c[column]
    if dialect == "postgresql":
        inner = select(func.unnest(col).label("tag")).where(*conditions).subquery("tagged")
        tag = inner.c.tag
        counted = select(tag, func.count().label("n")).group_by(tag)
    else:
        each = func.json_each(col).table_valued("value")
        tag = each.c.value
        counted = (
            select(tag.label("tag"), func.count().label("n"))
            .select_from(table)
            .join(each, true())
            .where(*conditions)
            .group_by(tag)
        )
    return counted.order_by(func.count().desc(), tag).limit(limit)


def text_matches(table: Table, words: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """Rows whose search_text holds every word, each as a word or a word's prefix.

    `words` are already normalised (lower-case letters and digits only), so
    they need no escaping in either query language.
    """
    if dialect == "postgresql":
        query = " & ".join(f"{w}:*" for w in words)
        return literal_column("artifacts.search_vector").op("@@")(
            func.to_tsquery(literal_column("'simple'"), bindparam(None, query, type_=Text()))
        )
    match = " AND ".join(f'"{w}"*' for w in words)
    matching_ids = (
        text(
            "SELECT m.artifact_id FROM artifact_search s "
            "JOIN artifact_search_rowids m ON m.rowid = s.rowid "
            "WHERE artifact_search MATCH :fts_query"
        )
        .bindparams(fts_query=match)
        .columns(artifact_id=Text())
    )
    return table.c.id.in_(select(matching_ids.subquery().c.artifact_id))


def labels_match(
    table: Table, column: str, wanted: dict[str, str], dialect: str
) -> ColumnElement[bool]:
    """Rows whose JSON labels hold every wanted key (with that value, unless it is empty)."""
    col = table.c[column]
    conditions: list[ColumnElement[bool]] = []
    for key, value in sorted(wanted.items()):
        if dialect == "postgresql":
            if value:
                conditions.append(col.op("@>")(func.jsonb_build_object(key, value)))
            else:
                conditions.append(col.op("?")(bindparam(None, key, type_=Text())))
        else:
            path = '$."' + key.replace('"', "") + '"'
            extracted = func.json_extract(col, path)
            conditions.append(extracted == value if value else extracted.is_not(None))
    return and_(*conditions)


def uuid_in(
    column: ColumnElement[Any], ids: Sequence[uuid.UUID], dialect: str
) -> ColumnElement[bool]:
    """`column IN ids` with one parameter however many ids there are.

    `= ANY(uuid[])` on PostgreSQL (a bound IN list is capped at 32,767
    parameters), the hex ids of a JSON array under json_each on SQLite.
    """
    if dialect == "postgresql":
        return column == func.any(bindparam(None, list(ids), type_=ARRAY(Uuid())))
    each = func.json_each(bindparam(None, json.dumps([i.hex for i in ids]), type_=Text()))
    values = each.table_valued("value")
    return column.in_(select(values.c.value))
