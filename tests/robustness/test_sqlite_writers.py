"""SQLite's writers in one process take turns in Python, not in SQLite's busy handler.

SQLite has one writer at a time; a second BEGIN IMMEDIATE polls the lock
with sleeps (1, 2, 5, 10... ms), which left the file idle between writes.
The store queues this process's writers first: a writer waiting its turn
has started no transaction, and each one sees what the one before it
committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from maestro_grpc.store.db import Database


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'writers.db'}")
    async with db.write() as conn:
        await conn.execute(text("CREATE TABLE log (n INTEGER, seen INTEGER)"))
    try:
        yield db
    finally:
        await db.dispose()


def begins(db: Database) -> list[str]:
    """Every BEGIN the store sends, as it sends it."""
    sent: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("BEGIN"):
            sent.append(statement)

    return sent


async def holding_a_write(db: Database) -> tuple[asyncio.Task[None], asyncio.Event]:
    """A write (of row 1) that holds its turn until the event is set: its task and the event."""
    opened, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with db.write() as conn:
            await conn.execute(text("INSERT INTO log VALUES (1, 0)"))
            opened.set()
            await release.wait()

    task = asyncio.create_task(hold())
    await opened.wait()
    return task, release


async def test_a_second_writer_waits_without_a_transaction_and_sees_the_first(
    database: Database,
) -> None:
    sent = begins(database)
    holder, release = await holding_a_write(database)

    async def second() -> int:
        async with database.write() as conn:
            seen = (await conn.execute(text("SELECT count(*) FROM log"))).scalar_one()
            await conn.execute(text("INSERT INTO log VALUES (2, :seen)"), {"seen": seen})
            return int(seen)

    waiter = asyncio.create_task(second())
    for _ in range(20):  # give the second writer every chance to begin
        await asyncio.sleep(0.01)
    assert sent == ["BEGIN IMMEDIATE"]
    assert not waiter.done()
    release.set()
    async with asyncio.timeout(10):  # a turn never handed on fails here, not hangs
        await holder
        assert await waiter == 1
    assert sent == ["BEGIN IMMEDIATE", "BEGIN IMMEDIATE"]


async def test_a_cancelled_waiter_leaves_the_turn_to_the_next(database: Database) -> None:
    holder, release = await holding_a_write(database)
    cancelled = asyncio.create_task(_insert(database, 2))
    after = asyncio.create_task(_insert(database, 3))
    await asyncio.sleep(0.05)
    cancelled.cancel()
    release.set()
    async with asyncio.timeout(10):  # the cancelled waiter must not keep the turn
        await holder
        await after
    assert cancelled.cancelled()
    async with database.read() as conn:
        rows = (await conn.execute(text("SELECT n FROM log ORDER BY n"))).scalars().all()
    assert rows == [1, 3]


async def _insert(db: Database, n: int) -> None:
    async with db.write() as conn:
        await conn.execute(text("INSERT INTO log VALUES (:n, 0)"), {"n": n})
