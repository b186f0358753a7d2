"""The artifact indexer's work: impact scores, blob checks, blob GC, as periodic jobs.

Its work is a fixed set of periodic jobs in the store's job queue
(`worker_jobs`, queue "indexer"), each a row that is leased, run, and
rescheduled `MAESTRO_INDEXER_INTERVAL_SECONDS` later:
- `impact/0` ... `impact/f`: recompute the usage count and impact score of
  every live artifact with usages whose id starts with that hex digit, the
  same way LogArtifactUsage does. The RPC path rescores an artifact only
  when a usage is logged; the indexer makes scores decay with time and
  follow outcomes recorded later (UpdateProjectSuccess). Impact scores and
  usage counts are what RecommendArtifacts reads precomputed (its "high
  impact" signal and its candidate set); its other signals (similar
  projects, matching tags) it computes from usages, labels and skills at
  request time, so refreshing the scores is refreshing the data behind it;
- `verify`: re-hash the MAESTRO_INDEXER_VERIFY_SAMPLE blobs verified longest
  ago; mismatches and missing blobs are reported;
- `gc`: blob garbage collection (`ContentUpkeep.collect_garbage`);
- any job the composition root adds (`extra_jobs`, keyed by name): today
  `audit`, the audit log's retention (MAESTRO_AUDIT_RETENTION_DAYS), when
  one is set.
Several replicas may run at once: a job is leased by one of them (FOR UPDATE
SKIP LOCKED on PostgreSQL; SQLite's write lock makes leases one at a time),
its lease is extended while it runs, and it is rescheduled only by its
holder. What it does is told to an `IndexerObserver` (the process exports
it as Prometheus metrics: wire/telemetry.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.registry.domain.artifacts import scorer
from maestro_grpc.registry.domain.content.upkeep import ContentUpkeep
from maestro_grpc.registry.model import GcReport, VerifyReport
from maestro_grpc.registry.store.indexer import IndexerStore, Job

log = logging.getLogger("maestro.indexer")

QUEUE = "indexer"
IMPACT_SHARDS = "0123456789abcdef"
JOB_KEYS = (*(f"impact/{s}" for s in IMPACT_SHARDS), "verify", "gc")
JOB_KINDS = ("impact", "verify", "gc")
# Artifacts rescored per transaction.
IMPACT_BATCH = 200
# A job's lease, renewed every third of it while the job runs.
LEASE = timedelta(minutes=5)
# A failed job is retried after this, doubling per attempt, at most the interval.
RETRY_BASE = timedelta(seconds=30)


class IndexerObserver(Protocol):
    """What hears of the indexer's progress and errors."""

    def job_done(self, kind: str, ok: bool, seconds: float) -> None:
        """A job of this kind ran for `seconds`, and succeeded or failed."""

    def rescored(self, count: int, changed: int) -> None:
        """A batch of `count` artifacts was rescored; `changed` of them changed."""

    def verified(self, report: VerifyReport) -> None:
        """A verification pass ended."""

    def collected(self, report: GcReport) -> None:
        """A GC pass ended."""


class Unobserved:
    """An observer that ignores everything."""

    def job_done(self, kind: str, ok: bool, seconds: float) -> None:
        pass

    def rescored(self, count: int, changed: int) -> None:
        pass

    def verified(self, report: VerifyReport) -> None:
        pass

    def collected(self, report: GcReport) -> None:
        pass


def shard_bounds(shard: str) -> tuple[uuid.UUID, uuid.UUID | None]:
    """The ids of a shard: from `<digit>000...` up to (not including) the next digit's."""
    lower = uuid.UUID(shard + "0" * 31)
    position = IMPACT_SHARDS.index(shard)
    if position + 1 == len(IMPACT_SHARDS):
        return lower, None
    return lower, uuid.UUID(IMPACT_SHARDS[position + 1] + "0" * 31)


@dataclass(frozen=True)
class IndexerSchedule:
    """How often the jobs run and how much each does."""

    interval: timedelta
    verify_sample: int
    half_life_days: float


class Indexer:
    """One indexer replica."""

    def __init__(
        self,
        store: IndexerStore,
        upkeep: ContentUpkeep,
        *,
        owner: str,
        schedule: IndexerSchedule,
        clock: Clock = utcnow,
        observer: IndexerObserver | None = None,
        extra_jobs: Mapping[str, Callable[[], Awaitable[object]]] | None = None,
    ) -> None:
        self.store = store
        self.extra_jobs = dict(extra_jobs or {})
        self.job_keys = (*JOB_KEYS, *self.extra_jobs)
        self.upkeep = upkeep
        self.owner = owner
        self.interval = schedule.interval
        self.sample = schedule.verify_sample
        self.half_life_days = schedule.half_life_days
        self.clock = clock
        self.observer: IndexerObserver = observer if observer is not None else Unobserved()

    # ---- the queue -------------------------------------------------------------

    async def run_due(self, stop: asyncio.Event | None = None) -> list[str]:
        """Run every job that is due (leasing them one at a time); the keys run here.

        When `stop` is set it returns after the job in hand.
        """
        await self.store.seed(self.job_keys, self.clock())
        done: list[str] = []
        while stop is None or not stop.is_set():
            job = await self.store.lease_one(self.owner, self.clock(), LEASE)
            if job is None:
                return done
            if await self.run_job(job):
                done.append(job.key)
        return done

    async def run_job(self, job: Job) -> bool:
        """Run one leased job; reschedule it, or release it for a retry when it fails."""
        kind = job.key.split("/", 1)[0]
        started = time.perf_counter()
        keeper = asyncio.create_task(self._keep_lease(job))
        try:
            await self._dispatch(kind, job.key)
        except Exception as error:
            log.exception("indexer job %s failed (attempt %d)", job.key, job.attempts)
            self.observer.job_done(kind, False, time.perf_counter() - started)
            retry = min(RETRY_BASE * 2 ** max(job.attempts - 1, 0), self.interval)
            await self.store.fail(job, self.owner, repr(error), now=self.clock(), retry_in=retry)
            return False
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        seconds = time.perf_counter() - started
        await self.store.reschedule(job, self.owner, self.clock() + self.interval)
        self.observer.job_done(kind, True, seconds)
        return True

    async def _keep_lease(self, job: Job) -> None:
        """Extend the lease of a running job, so no other replica takes it meanwhile."""
        while True:
            await asyncio.sleep(LEASE.total_seconds() / 3)
            await self.store.extend_lease(job, self.owner, self.clock() + LEASE)

    async def _dispatch(self, kind: str, key: str) -> None:
        extra = self.extra_jobs.get(key)
        if extra is not None:
            await extra()
        elif kind == "impact":
            await self.refresh_impact(key.split("/", 1)[1])
        elif kind == "verify":
            await self.verify()
        elif kind == "gc":
            await self.collect_garbage()
        else:
            raise ValueError(f"unknown indexer job {key!r}")

    # ---- the jobs --------------------------------------------------------------

    async def refresh_impact(self, shard: str) -> tuple[int, int]:
        """Rescore the live artifacts with usages in one shard; (rescored, changed)."""
        lower, upper = shard_bounds(shard)
        rescored = changed = 0
        after: uuid.UUID | None = None
        while True:
            batch = await self.store.rescore_batch(
                lower=lower,
                upper=upper,
                after=after,
                limit=IMPACT_BATCH,
                score=scorer(self.clock(), self.half_life_days),
            )
            batch_changed = sum(1 for r in batch if r.changed)
            self.observer.rescored(len(batch), batch_changed)
            rescored += len(batch)
            changed += batch_changed
            if len(batch) < IMPACT_BATCH:
                return rescored, changed
            after = batch[-1].artifact_id

    async def verify(self) -> None:
        self.observer.verified(await self.upkeep.verify_blobs(self.sample))

    async def collect_garbage(self) -> None:
        report = await self.upkeep.collect_garbage()
        self.observer.collected(report)
        if report.failed:
            raise RuntimeError(f"{report.failed} blob(s) could not be collected")
