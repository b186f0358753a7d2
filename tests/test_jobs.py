"""The workers' job queue on both stores: leases, re-enqueue, expiry, concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from maestro_grpc.store import jobs
from maestro_grpc.store.db import Database

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


async def enqueue(
    db: Database, key: str, *, run_after: datetime | None = None, **payload: object
) -> None:
    async with db.write() as conn:
        await jobs.enqueue(conn, "q", key, dict(payload), now=NOW, run_after=run_after)


async def test_lease_complete_and_reenqueue(store_url: str) -> None:
    db = Database(store_url)
    try:
        await enqueue(db, "a", n=1)
        await enqueue(db, "b")
        await enqueue(db, "later", run_after=NOW + timedelta(hours=1))
        leased = await jobs.lease(db, "q", "w1", now=NOW, limit=10)
        assert [j.key for j in leased] == ["a", "b"]
        assert leased[0].payload == {"n": 1}
        # Leased jobs are not handed out again while the lease holds.
        assert await jobs.lease(db, "q", "w2", now=NOW) == []

        # "a" is enqueued again while it runs: completing the old generation keeps it.
        await enqueue(db, "a", n=2)
        assert await jobs.complete(db, leased[0], "w1") is False
        assert await jobs.complete(db, leased[1], "w1") is True
        again = await jobs.lease(db, "q", "w2", now=NOW)
        assert [(j.key, j.payload) for j in again] == [("a", {"n": 2})]
        assert await jobs.complete(db, again[0], "w2") is True

        assert await jobs.pending(db, "q") == 1  # "later"
        due = await jobs.lease(db, "q", "w1", now=NOW + timedelta(hours=2))
        assert [j.key for j in due] == ["later"]
    finally:
        await db.dispose()


async def test_expired_leases_and_failures(store_url: str) -> None:
    db = Database(store_url)
    try:
        await enqueue(db, "x")
        first = await jobs.lease(db, "q", "crashed", now=NOW, lease_for=timedelta(minutes=1))
        assert len(first) == 1
        # The owner died: after the lease expires someone else takes it.
        retaken = await jobs.lease(db, "q", "w2", now=NOW + timedelta(minutes=2))
        assert [j.attempts for j in retaken] == [2]
        # The dead owner cannot complete it any more.
        assert await jobs.complete(db, first[0], "crashed") is False
        await jobs.fail(db, retaken[0], "w2", "boom", now=NOW, retry_in=timedelta(minutes=10))
        assert await jobs.lease(db, "q", "w3", now=NOW + timedelta(minutes=5)) == []
        assert len(await jobs.lease(db, "q", "w3", now=NOW + timedelta(minutes=11))) == 1
    finally:
        await db.dispose()


async def test_concurrent_workers_never_share_a_job(store_url: str) -> None:
    db = Database(store_url)
    try:
        for i in range(60):
            await enqueue(db, f"job-{i:02d}")
        taken: dict[str, list[str]] = {}

        async def worker(name: str) -> None:
            while batch := await jobs.lease(db, "q", name, now=NOW, limit=4):
                for job in batch:
                    taken.setdefault(job.key, []).append(name)
                    await asyncio.sleep(0)
                    assert await jobs.complete(db, job, name)

        await asyncio.gather(*(worker(f"w{i}") for i in range(4)))
        assert sorted(taken) == [f"job-{i:02d}" for i in range(60)]
        assert all(len(owners) == 1 for owners in taken.values())
        assert await jobs.pending(db, "q") == 0
    finally:
        await db.dispose()
