"""The SQL of SearchArtifacts, and the words free-text search sees.

The text is normalised once, here, before either store indexes or queries
it, so PostgreSQL's `simple` parser and SQLite's unicode61 tokenizer see the
same words.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, false, func, select

from maestro_grpc.paging import Cursor, KeyKind, Page
from maestro_grpc.registry.model import (
    Artifact,
    ArtifactFacets,
    ArtifactOrder,
    ArtifactQuery,
    ArtifactType,
)
from maestro_grpc.registry.store.rows import ARTIFACT_COLUMNS, artifact_from_row
from maestro_grpc.registry.store.tables import artifacts
from maestro_grpc.store.db import Database
from maestro_grpc.store.dialect import tag_counts, tags_all, tags_any, text_matches
from maestro_grpc.store.keyset import Keyset

WORD = re.compile(r"[^\W_]+")

# Search pages run highest (or newest) first, by (key DESC, id DESC): a
# backward scan of the live-artifact indexes.
ORDERS = {
    ArtifactOrder.IMPACT: Keyset(
        key=artifacts.c.impact_score, id=artifacts.c.id, key_kind=KeyKind.NUMBER, descending=True
    ),
    ArtifactOrder.RECENCY: Keyset(
        key=artifacts.c.create_time, id=artifacts.c.id, key_kind=KeyKind.TIME, descending=True
    ),
    ArtifactOrder.USAGE: Keyset(
        key=artifacts.c.usage_count, id=artifacts.c.id, key_kind=KeyKind.COUNT, descending=True
    ),
}


def search_words(*parts: str | Iterable[str]) -> list[str]:
    """The words free-text search sees: lower-case runs of letters and digits."""
    words: list[str] = []
    for part in parts:
        chunks = [part] if isinstance(part, str) else list(part)
        for chunk in chunks:
            words.extend(WORD.findall(chunk.lower()))
    return words


def search_text(name: str, version: str, description: str, tags: Sequence[str]) -> str:
    """What the `search_text` column holds for an artifact."""
    return " ".join(search_words(name, version, description, tags))


def _filter(query: ArtifactQuery, dialect: str) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [artifacts.c.delete_time.is_(None)]
    if query.types:
        conditions.append(artifacts.c.type.in_([t.value for t in query.types]))
    if query.tags_any:
        conditions.append(tags_any(artifacts, "tags", query.tags_any, dialect))
    if query.tags_all:
        conditions.append(tags_all(artifacts, "tags", query.tags_all, dialect))
    if query.origin_project_id is not None:
        conditions.append(artifacts.c.origin_project_id == query.origin_project_id)
    if query.min_impact_score > 0:
        conditions.append(artifacts.c.impact_score >= query.min_impact_score)
    if query.name:
        conditions.append(artifacts.c.name == query.name)
    if query.text:
        words = search_words(query.text)
        # Text with no word characters at all matches nothing.
        conditions.append(text_matches(artifacts, words, dialect) if words else false())
    return conditions


def capped_count(conditions: Sequence[ColumnElement[bool]], limit: int) -> Any:
    """How many rows match, counted no further than `limit` + 1.

    An exact count of a broad match at a million artifacts reads most of the
    table (a bitmap heap scan of every matching row); counting only the first
    `limit` + 1 ids stops early, and a result above `limit` says "more than
    `limit`" without pretending to know how many more. 0: no limit.
    """
    if limit <= 0:
        return select(func.count()).select_from(artifacts).where(*conditions)
    first = select(artifacts.c.id).where(*conditions).limit(limit + 1).subquery("counted")
    return select(func.count()).select_from(first)


def bounded(counted: int, limit: int) -> tuple[int, bool]:
    """The total to report, and whether it is a lower bound (more match)."""
    if 0 < limit < counted:
        return limit, True
    return counted, False


def _page_statement(
    order: Keyset, conditions: Sequence[ColumnElement[bool]], page_size: int
) -> Any:
    """A page's rows (one more than the page, to tell whether another follows).

    The page's ids first, then their rows: the filter and the order can be
    answered from the covering indexes alone (an index-only scan that skips
    non-matching rows without touching the table), so only the rows of the
    page are read from the table, by primary key.
    """
    page_ids = (
        select(artifacts.c.id)
        .where(*conditions)
        .order_by(*order.order_by())
        .limit(page_size + 1)
        .subquery("page_ids")
    )
    return (
        select(*ARTIFACT_COLUMNS)
        .where(artifacts.c.id.in_(select(page_ids.c.id)))
        .order_by(*order.order_by())
    )


class SearchStore:
    """SearchArtifacts' page and total, read together.

    `count_limit` caps the totals (SearchArtifacts' total_size and
    CountArtifactFacets' total_size): beyond it they say "at least this many".
    """

    def __init__(self, db: Database, *, count_limit: int = 0) -> None:
        self.db = db
        self.count_limit = count_limit

    async def search(
        self,
        query: ArtifactQuery,
        *,
        page_size: int,
        after: Cursor | None,
        then: Callable[[list[Artifact]], Awaitable[list[Artifact]]] | None = None,
    ) -> Page[Artifact]:
        """A page of matches and their total; `then` (the caller's own read, as the
        review summaries) runs on the page's artifacts while the total is still
        being counted."""
        order = ORDERS[query.order]
        conditions = _filter(query, self.db.dialect)
        beyond = order.after(after)
        page_conditions = conditions if beyond is None else [*conditions, beyond]
        statement = _page_statement(order, page_conditions, page_size)
        count = capped_count(conditions, self.count_limit)

        def decoded(rows: list[Any]) -> tuple[list[Artifact], Cursor | None]:
            page, next_cursor = order.page(
                rows, page_size, key_of=lambda r: getattr(r, order.key.name), id_of=lambda r: r.id
            )
            return [artifact_from_row(r) for r in page], next_cursor

        if self.db.is_postgres:
            # Page and count are independent reads: side by side on two
            # connections, the page decoded and handed to `then` meanwhile.
            async def page() -> tuple[list[Artifact], Cursor | None]:
                async with self.db.read() as conn:
                    rows = list(await conn.execute(statement))
                items, next_cursor = decoded(rows)
                return (await then(items) if then else items), next_cursor

            async def counted() -> int:
                async with self.db.read() as conn:
                    return int((await conn.execute(count)).scalar_one())

            (items, next_cursor), n = await asyncio.gather(page(), counted())
        else:
            # One connection, one snapshot for the page and its count.
            async with self.db.read() as conn:
                rows = list(await conn.execute(statement))
                n = int((await conn.execute(count)).scalar_one())
            items, next_cursor = decoded(rows)
            if then:
                items = await then(items)
        total, lower_bound = bounded(n, self.count_limit)
        return Page(
            items=items, next_cursor=next_cursor, total_size=total, total_is_lower_bound=lower_bound
        )

    async def facets(self, query: ArtifactQuery, *, max_tags: int) -> ArtifactFacets:
        """Counts by type (without the type filter) and by tag (without tags_any), and in all."""
        dialect = self.db.dialect
        by_type = (
            select(artifacts.c.type, func.count())
            .where(*_filter(dataclasses.replace(query, types=[]), dialect))
            .group_by(artifacts.c.type)
        )
        by_tag = tag_counts(
            artifacts,
            "tags",
            _filter(dataclasses.replace(query, tags_any=[]), dialect),
            dialect,
            limit=max_tags,
        )
        total = capped_count(_filter(query, dialect), self.count_limit)
        statements = (by_type, by_tag, total)
        if self.db.is_postgres:

            async def run(statement: Any) -> list[Any]:
                async with self.db.read() as conn:
                    return list(await conn.execute(statement))

            type_rows, tag_rows, total_rows = await asyncio.gather(*(run(s) for s in statements))
        else:
            async with self.db.read() as conn:
                type_rows, tag_rows, total_rows = [list(await conn.execute(s)) for s in statements]
        types = sorted(
            ((ArtifactType(t), int(n)) for t, n in type_rows), key=lambda p: (-p[1], p[0].value)
        )
        counted, lower_bound = bounded(int(total_rows[0][0]), self.count_limit)
        return ArtifactFacets(
            types=types,
            tags=[(str(t), int(n)) for t, n in tag_rows],
            total=counted,
            total_is_lower_bound=lower_bound,
        )
