"""request_id idempotency (AIP-155), inside the caller's write transaction.

The first call with a (scope, request_id) inserts the key; a concurrent
duplicate waits on the row lock (PostgreSQL) or the write lock (SQLite) and
then finds it. If the first call's transaction rolls back, so does its key,
and a retry runs afresh.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.errors import InvalidArgument
from maestro_grpc.store.dialect import insert
from maestro_grpc.store.schema import idempotency_keys

T = TypeVar("T")


@dataclass(frozen=True)
class RequestKey:
    """What makes a create call idempotent: its RPC, the caller's request_id, a fingerprint."""

    scope: str
    request_id: str
    fingerprint: str


async def create_once(
    conn: AsyncConnection,
    key: RequestKey | None,
    now: datetime,
    create: Callable[[], Awaitable[uuid.UUID]],
    load: Callable[[uuid.UUID], Awaitable[T]],
) -> T:
    """Run `create` once per request key and return `load` of what it made.

    A repeat of the key (same fingerprint) returns what the first call
    made; without a key (no request_id) `create` simply runs.
    """
    if key is not None and key.request_id:
        earlier = await claim(conn, key.scope, key.request_id, key.fingerprint, now)
        if earlier:
            return await load(uuid.UUID(earlier))
    resource_id = await create()
    if key is not None and key.request_id:
        await complete(conn, key.scope, key.request_id, str(resource_id))
    return await load(resource_id)


async def claim(
    conn: AsyncConnection, scope: str, request_id: str, fingerprint: str, now: datetime
) -> str | None:
    """Claim `request_id`; None if this is the first call, else the earlier call's resource id."""
    statement = (
        insert(conn, idempotency_keys)
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
