"""request_id idempotency (AIP-155), inside the caller's write transaction.

The first call with a (scope, request_id) inserts the key; a concurrent
duplicate waits on the row lock (PostgreSQL) or the write lock (SQLite) and
then finds it. If the first call's transaction rolls back, so does its key,
and a retry runs afresh.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.errors import InvalidArgument
from maestro_grpc.store.schema import idempotency_keys


async def claim(
    conn: AsyncConnection, scope: str, request_id: str, fingerprint: str, now: datetime
) -> str | None:
    """Claim `request_id`; None if this is the first call, else the earlier call's resource id."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(idempotency_keys)
        .values(scope=scope, request_id=request_id, fingerprint=fingerprint, create_time=now)
        .on_conflict_do_nothing()
        .returning(idempotency_keys.c.request_id)
    )
    if (await conn.execute(statement)).first() is not None:
        return None
    row = (
        await conn.execute(
            select(idempotency_keys.c.fingerprint, idempotency_keys.c.resource_id).where(
                idempotency_keys.c.scope == scope, idempotency_keys.c.request_id == request_id
            )
        )
    ).one()
    if row.fingerprint != fingerprint:
        raise InvalidArgument.for_field(
            "request_id", "was already used for a different request; use a new request_id"
        )
    return str(row.resource_id)


async def complete(conn: AsyncConnection, scope: str, request_id: str, resource_id: str) -> None:
    """Record what the first call made, so repeats can return it."""
    await conn.execute(
        update(idempotency_keys)
        .where(idempotency_keys.c.scope == scope, idempotency_keys.c.request_id == request_id)
        .values(resource_id=resource_id)
    )
