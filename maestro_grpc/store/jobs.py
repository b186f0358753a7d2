"""A small job queue in the store, for workers that may run as several replicas.

Jobs are rows of `worker_jobs`, unique by (queue, key). `enqueue` is an
upsert: enqueueing a job that already waits (or runs) bumps its generation
and keeps the earliest run_after. `lease` claims due jobs whose lease is
free or expired, with FOR UPDATE SKIP LOCKED on PostgreSQL so replicas never
take the same job; on SQLite the write lock does the same for one process at
a time. `complete` deletes a job only if its generation is still the one
leased; otherwise someone re-enqueued it meanwhile and it stays for another
pass. `fail` releases it with a backoff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.store.db import Database
from maestro_grpc.store.schema import worker_jobs


@dataclass(frozen=True)
class Job:
    id: int
    queue: str
    key: str
    payload: dict[str, Any]
    generation: int
    attempts: int


async def enqueue(
    conn: AsyncConnection,
    queue: str,
    key: str,
    payload: dict[str, Any] | None = None,
    *,
    now: datetime,
    run_after: datetime | None = None,
) -> None:
    """Add a job (or mark an existing one to run again), inside the caller's transaction."""
    when = run_after or now
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(worker_jobs).values(
        queue=queue,
        key=key,
        payload=payload or {},
        generation=1,
        run_after=when,
        attempts=0,
        create_time=now,
    )
    statement = statement.on_conflict_do_update(
        index_elements=[worker_jobs.c.queue, worker_jobs.c.key],
        set_={
            "payload": statement.excluded.payload,
            "generation": worker_jobs.c.generation + 1,
            "run_after": func.min(worker_jobs.c.run_after, statement.excluded.run_after)
            if conn.dialect.name == "sqlite"
            else func.least(worker_jobs.c.run_after, statement.excluded.run_after),
        },
    )
    await conn.execute(statement)


async def lease(
    db: Database,
    queue: str,
    owner: str,
    *,
    now: datetime,
    limit: int = 10,
    lease_for: timedelta = timedelta(minutes=5),
) -> list[Job]:
    """Claim up to `limit` due jobs of `queue` for `owner` until now + lease_for."""
    free = or_(worker_jobs.c.lease_expire_time.is_(None), worker_jobs.c.lease_expire_time < now)
    due = (
        select(worker_jobs.c.id)
        .where(worker_jobs.c.queue == queue, worker_jobs.c.run_after <= now, free)
        .order_by(worker_jobs.c.run_after, worker_jobs.c.id)
        .limit(limit)
    )
    if db.is_postgres:
        due = due.with_for_update(skip_locked=True)
    async with db.write() as conn:
        ids = [row.id for row in await conn.execute(due)]
        if not ids:
            return []
        rows = await conn.execute(
            update(worker_jobs)
            .where(worker_jobs.c.id.in_(ids))
            .values(
                lease_owner=owner,
                lease_expire_time=now + lease_for,
                attempts=worker_jobs.c.attempts + 1,
            )
            .returning(
                worker_jobs.c.id,
                worker_jobs.c.queue,
                worker_jobs.c.key,
                worker_jobs.c.payload,
                worker_jobs.c.generation,
                worker_jobs.c.attempts,
            )
        )
        jobs = [
            Job(
                id=r.id,
                queue=r.queue,
                key=r.key,
                payload=dict(r.payload or {}),
                generation=r.generation,
                attempts=r.attempts,
            )
            for r in rows
        ]
    return sorted(jobs, key=lambda j: j.id)


async def complete(db: Database, job: Job, owner: str) -> bool:
    """Finish a leased job. False if it was re-enqueued meanwhile (it stays, unleased)."""
    async with db.write() as conn:
        done = await conn.execute(
            delete(worker_jobs).where(
                worker_jobs.c.id == job.id,
                worker_jobs.c.generation == job.generation,
                worker_jobs.c.lease_owner == owner,
            )
        )
        if done.rowcount == 1:
            return True
        await conn.execute(
            update(worker_jobs)
            .where(worker_jobs.c.id == job.id, worker_jobs.c.lease_owner == owner)
            .values(lease_owner=None, lease_expire_time=None, attempts=0)
        )
        return False


async def fail(
    db: Database, job: Job, owner: str, error: str, *, now: datetime, retry_in: timedelta
) -> None:
    """Release a job that failed, to be retried after `retry_in`."""
    async with db.write() as conn:
        await conn.execute(
            update(worker_jobs)
            .where(worker_jobs.c.id == job.id, worker_jobs.c.lease_owner == owner)
            .values(
                lease_owner=None,
                lease_expire_time=None,
                run_after=now + retry_in,
                last_error=error[:2000],
            )
        )


async def release(db: Database, leased: Sequence[Job], owner: str) -> None:
    """Give back leased jobs that were not started (a worker stopping), due at once."""
    if not leased:
        return
    async with db.write() as conn:
        await conn.execute(
            update(worker_jobs)
            .where(
                worker_jobs.c.id.in_([job.id for job in leased]),
                worker_jobs.c.lease_owner == owner,
            )
            .values(
                lease_owner=None,
                lease_expire_time=None,
                # The lease counted an attempt that never ran.
                attempts=case((worker_jobs.c.attempts > 0, worker_jobs.c.attempts - 1), else_=0),
            )
        )


async def pending(db: Database, queue: str) -> int:
    """How many jobs of `queue` wait or run."""
    async with db.read() as conn:
        result = await conn.execute(
            select(func.count()).select_from(worker_jobs).where(worker_jobs.c.queue == queue)
        )
        return int(result.scalar_one())


@dataclass(frozen=True)
class Backlog:
    """A queue at one moment: jobs in it, those due and not leased, the oldest due one's age."""

    queued: int
    due: int
    oldest_due_seconds: float


async def backlog(db: Database, queue: str, *, now: datetime) -> Backlog:
    """How far behind the workers of `queue` are (one indexed read)."""
    free = or_(worker_jobs.c.lease_expire_time.is_(None), worker_jobs.c.lease_expire_time < now)
    is_due = (worker_jobs.c.run_after <= now) & free
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(
                    func.count(),
                    func.count(case((is_due, 1))),
                    func.min(case((is_due, worker_jobs.c.run_after))),
                ).where(worker_jobs.c.queue == queue)
            )
        ).one()
    oldest = row[2]
    if isinstance(oldest, str):  # SQLite hands back the text it stores
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    age = 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
    return Backlog(int(row[0]), int(row[1]), age)


__all__ = ["Backlog", "Job", "backlog", "complete", "enqueue", "fail", "lease", "pending"]
