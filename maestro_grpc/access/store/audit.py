"""Reading the audit log, sending denials to it, and trimming it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select

from maestro_grpc.access.model import AuditEvent, AuditQuery
from maestro_grpc.audit import Denial
from maestro_grpc.paging import Cursor, KeyKind
from maestro_grpc.store import audit_log
from maestro_grpc.store.db import Database
from maestro_grpc.store.dialect import tags_any
from maestro_grpc.store.keyset import Keyset
from maestro_grpc.store.schema import audit_events

_NEWEST_FIRST = Keyset(
    key=audit_events.c.time, id=audit_events.c.id, key_kind=KeyKind.TIME, descending=True
)
# Rows deleted per transaction when trimming, so a long trim never holds a big lock.
TRIM_BATCH = 5000


def _event(row: Any) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        time=row.time,
        token_id=row.token_id,
        token_name=row.token_name,
        method=row.method,
        resources=tuple(row.resources or ()),
        project_ids=tuple(uuid.UUID(p) for p in row.project_ids or ()),
        request_id=row.request_id,
        code=row.code,
        peer=row.peer,
        detail=row.detail,
    )


class AuditStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list(
        self, query: AuditQuery, *, page_size: int, after: Cursor | None
    ) -> tuple[list[AuditEvent], Cursor | None]:
        statement = select(audit_events)
        if query.token_id is not None:
            statement = statement.where(audit_events.c.token_id == query.token_id)
        if query.project_id is not None:
            statement = statement.where(
                tags_any(audit_events, "project_ids", [str(query.project_id)], self.db.dialect)
            )
        if query.method:
            if query.method.startswith("/"):
                statement = statement.where(audit_events.c.method == query.method)
            else:
                statement = statement.where(
                    or_(
                        audit_events.c.method.endswith("/" + query.method, autoescape=True),
                        audit_events.c.method == query.method,
                    )
                )
        if query.start_time is not None:
            statement = statement.where(audit_events.c.time >= query.start_time)
        if query.end_time is not None:
            statement = statement.where(audit_events.c.time < query.end_time)
        condition = _NEWEST_FIRST.after(after)
        if condition is not None:
            statement = statement.where(condition)
        statement = statement.order_by(*_NEWEST_FIRST.order_by()).limit(page_size + 1)
        async with self.db.read() as conn:
            rows = list(await conn.execute(statement))
        items, cursor = _NEWEST_FIRST.page(
            rows, page_size, key_of=lambda r: r.time, id_of=lambda r: r.id
        )
        return [_event(r) for r in items], cursor

    async def record_denials(self, denials: Sequence[Denial]) -> None:
        if denials:
            async with self.db.write() as conn:
                await audit_log.record_denials(conn, denials)

    async def trim(self, before: datetime) -> int:
        """Delete events older than `before`; how many went."""
        removed = 0
        while True:
            async with self.db.write() as conn:
                ids = [
                    row.id
                    for row in await conn.execute(
                        select(audit_events.c.id)
                        .where(audit_events.c.time < before)
                        .limit(TRIM_BATCH)
                    )
                ]
                if ids:
                    await conn.execute(delete(audit_events).where(audit_events.c.id.in_(ids)))
            removed += len(ids)
            if len(ids) < TRIM_BATCH:
                return removed
