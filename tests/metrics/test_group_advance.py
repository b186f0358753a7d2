"""A group's producers move their committed sequences together, or not at all (both stores).

GroupCommit writes consecutive batches of several producers in one
transaction; `advance_all` moves each producer from the group's first
sequence to its last in one statement on PostgreSQL. Anything but one
unbroken run per producer, at the producer's current epoch and right after
its committed sequence, makes the group fail so that the one-by-one path
can say which batch is a duplicate, a gap or superseded.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from maestro_grpc.metrics.model import StreamPosition
from maestro_grpc.metrics.store.producers import advance_all
from maestro_grpc.metrics.store.tables import metric_producers
from maestro_grpc.store.db import Database

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


async def producers(db: Database, **committed: int) -> None:
    async with db.write() as conn:
        for name, sequence in committed.items():
            await conn.execute(
                metric_producers.insert().values(
                    producer_id=name,
                    committed_sequence=sequence,
                    epoch=2,
                    create_time=NOW,
                    update_time=NOW,
                )
            )


async def committed(db: Database) -> dict[str, int]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(metric_producers.c.producer_id, metric_producers.c.committed_sequence)
        )
        return {r.producer_id: r.committed_sequence for r in rows}


def at(producer: str, *sequences: int, epoch: int = 2) -> list[StreamPosition]:
    return [StreamPosition(producer, epoch, s) for s in sequences]


async def attempt(db: Database, positions: list[StreamPosition]) -> bool:
    """Run advance_all in a transaction that commits only if it succeeded."""
    async with db.write() as conn:
        moved = await advance_all(conn, positions, NOW)
        if not moved:
            await conn.rollback()
        return moved


async def test_runs_of_several_producers_move_together(store_url: str) -> None:
    db = Database(store_url)
    try:
        await producers(db, a=4, b=0)
        # Out of order on purpose: the group's order is not the sequences'.
        assert await attempt(db, at("a", 7, 5, 6) + at("b", 1, 2))
        assert await committed(db) == {"a": 7, "b": 2}
    finally:
        await db.dispose()


async def test_a_broken_run_a_stale_start_or_an_old_epoch_moves_nothing(store_url: str) -> None:
    db = Database(store_url)
    try:
        await producers(db, a=4, b=0)
        assert not await attempt(db, at("a", 5, 7) + at("b", 1))  # a gap inside the group
        assert not await attempt(db, at("a", 4, 5) + at("b", 1))  # 4 is already committed
        assert not await attempt(db, at("a", 5) + at("b", 1, epoch=1))  # b was superseded
        assert not await attempt(db, at("a", 5) + at("nobody", 1))  # never opened
        assert await committed(db) == {"a": 4, "b": 0}
    finally:
        await db.dispose()
