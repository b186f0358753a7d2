"""Appending audit events: inside a write's own transaction, or on their own (denials).

`store/db.py` calls `record(conn, scope)` at the end of every write
transaction run under an audit scope (see `maestro_grpc/audit.py`): the
first write of a call inserts its event, later ones add what they touched.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.audit import AuditScope, Denial
from maestro_grpc.clock import utcnow
from maestro_grpc.store.schema import audit_events

_INSERT = insert(audit_events)


def _row(scope: AuditScope, time: datetime, code: str, detail: str = "") -> dict[str, object]:
    return {
        "id": scope.event_id or uuid.uuid4(),
        "time": time,
        "token_id": scope.token_id,
        "token_name": scope.token_name[:100],
        "method": scope.method[:200],
        "resources": list(scope.resources),
        "project_ids": sorted(str(p) for p in scope.project_ids),
        "request_id": scope.request_id[:100],
        "code": code,
        "peer": scope.peer[:200],
        "detail": detail,
    }


async def record(conn: AsyncConnection, scope: AuditScope) -> None:
    """The call's event, in `conn`'s transaction: inserted by its first write, then completed."""
    now = utcnow()
    if scope.event_id is not None:
        done = await conn.execute(
            update(audit_events)
            .where(audit_events.c.id == scope.event_id)
            .values(
                time=now,
                resources=list(scope.resources),
                project_ids=sorted(str(p) for p in scope.project_ids),
            )
        )
        if done.rowcount:
            return
    row = _row(scope, now, "OK")
    # The values as parameters of one statement, compiled once for every write.
    await conn.execute(_INSERT, row)
    scope.event_id = row["id"]  # type: ignore[assignment]


async def record_denials(conn: AsyncConnection, denials: Sequence[Denial]) -> None:
    await conn.execute(
        insert(audit_events), [_row(d.scope, d.time, d.code, d.detail) for d in denials]
    )


async def exists(conn: AsyncConnection, event_id: uuid.UUID) -> bool:
    found = await conn.scalar(select(audit_events.c.id).where(audit_events.c.id == event_id))
    return found is not None
