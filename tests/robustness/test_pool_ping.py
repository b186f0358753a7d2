"""Pooled PostgreSQL connections: pinged only after sitting idle, replaced when cut.

The store pings a connection on checkout only when it sat idle
(`PING_AFTER_IDLE_SECONDS`); each test cuts its own connections with
pg_terminate_backend (nothing else in the database is touched) and looks at
what the backend ran last (`pg_stat_activity.query`) to see whether a
checkout pinged.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.errors import Unavailable
from maestro_grpc.store import db as db_module
from maestro_grpc.store.db import Database

pytestmark = pytest.mark.postgres

IDLE = 0.2
Session = Callable[[], AbstractAsyncContextManager[AsyncConnection]]


@pytest.fixture
async def database(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Database]:
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", IDLE)
    db = Database(pg_url, pool_size=1)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
async def admin(pg_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(pg_url.replace("+asyncpg", ""))
    try:
        yield conn
    finally:
        await conn.close()


def sessions(database: Database) -> dict[str, Session]:
    return {"read": database.read, "write": database.write}


async def backend(session: Session) -> int:
    async with session() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def last_query(admin: asyncpg.Connection, pid: int) -> str:
    query = await admin.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid)
    return str(query).strip()


@pytest.mark.parametrize("kind", ["read", "write"])
async def test_a_busy_connection_is_not_pinged_an_idle_one_is(
    database: Database, admin: asyncpg.Connection, kind: str
) -> None:
    session = sessions(database)[kind]
    # What the backend ran last: the call's own statement (a read has no
    # transaction), its COMMIT (a write), or the ping (inside a transaction
    # it rolls back, on a write connection).
    after_call, after_ping = {
        "read": ("SELECT pg_backend_pid()", ";"),
        "write": ("COMMIT;", "ROLLBACK;"),
    }[kind]
    pid = await backend(session)
    async with session():  # checked out at once: no ping
        assert await last_query(admin, pid) == after_call
    await backend(session)
    await asyncio.sleep(IDLE * 2)
    async with session():  # checked out after sitting idle: pinged
        assert await last_query(admin, pid) == after_ping


@pytest.mark.parametrize("kind", ["read", "write"])
async def test_an_idle_connection_the_database_cut_is_replaced_unseen(
    database: Database, admin: asyncpg.Connection, kind: str
) -> None:
    session = sessions(database)[kind]
    pid = await backend(session)
    assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    await asyncio.sleep(IDLE * 2)
    # The ping finds it dead: the call gets a new connection, no error.
    assert await backend(session) != pid


@pytest.mark.parametrize("kind", ["read", "write"])
async def test_a_busy_connection_the_database_cut_fails_once_unavailable(
    database: Database, admin: asyncpg.Connection, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = sessions(database)[kind]
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    pid = await backend(session)
    assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    await asyncio.sleep(0.1)
    # Cut within the idle allowance: the one call that used it is UNAVAILABLE
    # (a retryable status), and the next gets a new connection.
    with pytest.raises(Unavailable):
        await backend(session)
    assert await backend(session) != pid
