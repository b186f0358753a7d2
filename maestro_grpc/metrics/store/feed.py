"""The live feed's SQL: appending a write's entries in its transaction, reading and trimming them.

`append` runs inside a write's transaction, last: it bumps each project's
head (metric_feed_heads) by the number of entries, which takes that row's
lock until the commit, so a project's writers take their sequences in
commit order and a rolled-back write gives its sequences back. Projects
are bumped in one order (by id), so that two writes of the same projects
never wait on each other's rows crosswise.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.metrics.model import FeedEntry
from maestro_grpc.metrics.store.tables import metric_feed, metric_feed_heads
from maestro_grpc.store.db import Database
from maestro_grpc.store.dialect import insert


async def append(
    conn: AsyncConnection, payloads: dict[uuid.UUID, bytes], now: datetime
) -> list[FeedEntry]:
    """One entry per project for this write, each under the project's next sequence."""
    if not payloads:
        return []
    projects = sorted(payloads, key=str)
    if conn.dialect.name == "postgresql":
        rows = await conn.execute(
            _APPEND_PG,
            {"projects": projects, "payloads": [payloads[p] for p in projects], "now": now},
        )
        heads = {row.project_id: int(row.sequence) for row in rows}
        return [FeedEntry(p, heads[p], payloads[p]) for p in projects]
    bump = insert(conn, metric_feed_heads).values(
        [{"project_id": p, "sequence": 1} for p in projects]
    )
    upsert = bump.on_conflict_do_update(
        index_elements=[metric_feed_heads.c.project_id],
        set_={"sequence": metric_feed_heads.c.sequence + 1},
    ).returning(metric_feed_heads.c.project_id, metric_feed_heads.c.sequence)
    heads = {row.project_id: int(row.sequence) for row in await conn.execute(upsert)}
    entries = [FeedEntry(p, heads[p], payloads[p]) for p in projects]
    await conn.execute(
        metric_feed.insert(),
        [
            {
                "project_id": e.project_id,
                "sequence": e.sequence,
                "payload": e.payload,
                "create_time": now,
            }
            for e in entries
        ],
    )
    return entries


# PostgreSQL: the heads' bump and the entries in one statement (one round
# trip of the write's transaction, not two). The bump takes the rows in the
# array's order (by id), as above.
_APPEND_PG = text(
    """
    WITH bumped AS (
        INSERT INTO metric_feed_heads (project_id, sequence)
        SELECT p, 1 FROM unnest(CAST(:projects AS uuid[])) AS p
        ON CONFLICT (project_id) DO UPDATE SET sequence = metric_feed_heads.sequence + 1
        RETURNING project_id, sequence
    ), added AS (
        INSERT INTO metric_feed (project_id, sequence, payload, create_time)
        SELECT b.project_id, b.sequence, u.payload, :now
        FROM bumped b
        JOIN unnest(CAST(:projects AS uuid[]), CAST(:payloads AS bytea[]))
             AS u(project_id, payload) USING (project_id)
    )
    SELECT project_id, sequence FROM bumped
    """
)


class FeedStore:
    """What watchers read of the feed, and its trimming."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def head(self, project_id: uuid.UUID) -> int:
        """The sequence of the project's latest committed write (0: none yet)."""
        async with self.db.read() as conn:
            found = await conn.scalar(
                select(metric_feed_heads.c.sequence).where(
                    metric_feed_heads.c.project_id == project_id
                )
            )
        return int(found or 0)

    async def first(self, project_id: uuid.UUID) -> int | None:
        """The oldest sequence still held (None: none held)."""
        async with self.db.read() as conn:
            found = await conn.scalar(
                select(func.min(metric_feed.c.sequence)).where(
                    metric_feed.c.project_id == project_id
                )
            )
        return None if found is None else int(found)

    async def since(self, project_id: uuid.UUID, after: int, limit: int) -> list[FeedEntry]:
        """Up to `limit` entries after sequence `after`, in order."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(metric_feed.c.sequence, metric_feed.c.payload)
                .where(metric_feed.c.project_id == project_id, metric_feed.c.sequence > after)
                .order_by(metric_feed.c.sequence)
                .limit(limit)
            )
            return [FeedEntry(project_id, int(r.sequence), bytes(r.payload)) for r in rows]

    async def trim(self, before: datetime) -> int:
        """Delete the entries written before `before`; how many went (heads stay)."""
        async with self.db.write() as conn:
            result = await conn.execute(
                delete(metric_feed).where(metric_feed.c.create_time < before)
            )
        return int(result.rowcount)
