"""The SQL of the artifact indexer: its periodic jobs' rows, and rescoring in batches."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from maestro_grpc.registry.store.tables import artifacts
from maestro_grpc.registry.store.usages import Scorer, rescore
from maestro_grpc.store import jobs
from maestro_grpc.store.db import Database
from maestro_grpc.store.dialect import insert
from maestro_grpc.store.jobs import Job
from maestro_grpc.store.schema import worker_jobs

__all__ = ["IndexerStore", "Job", "Rescored"]


@dataclass(frozen=True)
class Rescored:
    """One artifact rescored: whether its usage count or impact score changed."""

    artifact_id: uuid.UUID
    changed: bool


class IndexerStore:
    """The indexer's queue rows and its rescoring: each method one transaction."""

    def __init__(self, db: Database, queue: str) -> None:
        self.db = db
        self.queue = queue

    async def seed(self, keys: Sequence[str], now: datetime) -> None:
        """Make sure every periodic job has its row (a no-op for rows that exist)."""
        async with self.db.write() as conn:
            await conn.execute(
                insert(conn, worker_jobs)
                .values(
                    [
                        {
                            "queue": self.queue,
                            "key": key,
                            "payload": {},
                            "generation": 1,
                            "run_after": now,
                            "attempts": 0,
                            "create_time": now,
                        }
                        for key in keys
                    ]
                )
                .on_conflict_do_nothing(index_elements=[worker_jobs.c.queue, worker_jobs.c.key])
            )

    async def lease_one(self, owner: str, now: datetime, lease_for: timedelta) -> Job | None:
        leased = await jobs.lease(self.db, self.queue, owner, now=now, limit=1, lease_for=lease_for)
        return leased[0] if leased else None

    async def reschedule(self, job: Job, owner: str, run_after: datetime) -> None:
        """Release a job `owner` ran and set it to run again at `run_after`."""
        async with self.db.write() as conn:
            await conn.execute(
                update(worker_jobs)
                .where(worker_jobs.c.id == job.id, worker_jobs.c.lease_owner == owner)
                .values(
                    run_after=run_after,
                    lease_owner=None,
                    lease_expire_time=None,
                    attempts=0,
                    last_error=None,
                )
            )

    async def extend_lease(self, job: Job, owner: str, until: datetime) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                update(worker_jobs)
                .where(worker_jobs.c.id == job.id, worker_jobs.c.lease_owner == owner)
                .values(lease_expire_time=until)
            )

    async def fail(
        self, job: Job, owner: str, error: str, *, now: datetime, retry_in: timedelta
    ) -> None:
        await jobs.fail(self.db, job, owner, error, now=now, retry_in=retry_in)

    async def rescore_batch(
        self,
        *,
        lower: uuid.UUID,
        upper: uuid.UUID | None,
        after: uuid.UUID | None,
        limit: int,
        score: Scorer,
    ) -> list[Rescored]:
        """Rescore up to `limit` live artifacts with usages, by id from `lower` (after
        `after`) up to `upper`."""
        query = (
            select(artifacts.c.id, artifacts.c.usage_count, artifacts.c.impact_score)
            .where(
                artifacts.c.delete_time.is_(None),
                or_(artifacts.c.usage_count > 0, artifacts.c.impact_score > 0),
                artifacts.c.id >= lower,
            )
            .order_by(artifacts.c.id)
            .limit(limit)
        )
        if upper is not None:
            query = query.where(artifacts.c.id < upper)
        if after is not None:
            query = query.where(artifacts.c.id > after)
        if self.db.is_postgres:
            # Serialises with LogArtifactUsage, which locks the artifact too.
            query = query.with_for_update()
        done: list[Rescored] = []
        async with self.db.write() as conn:
            for row in list(await conn.execute(query)):
                count, impact = await rescore(conn, row.id, score)
                changed = count != row.usage_count or abs(impact - row.impact_score) > 1e-9
                done.append(Rescored(row.id, changed))
        return done
