"""The artifact indexer (`maestro worker indexer`): scores, blob checks, blob GC.

Its work is a fixed set of periodic jobs in the store's job queue
(`worker_jobs`, queue "indexer"), each a row that is leased, run, and
rescheduled `MAESTRO_INDEXER_INTERVAL_SECONDS` later:
- `impact/0` ... `impact/f`: recompute the usage count and impact score of
  every live artifact with usages whose id starts with that hex digit, with
  `ArtifactLibrary.refresh_impact`, the function LogArtifactUsage uses. The
  RPC path rescores an artifact only when a usage is logged; the indexer
  makes scores decay with time and follow outcomes recorded later
  (UpdateProjectSuccess). Impact scores and usage counts are what
  RecommendArtifacts reads precomputed (its "high impact" signal and its
  candidate set); its other signals (similar projects, matching tags) it
  computes from usages, labels and skills at request time, so refreshing
  the scores is refreshing the data behind it;
- `verify`: re-hash the MAESTRO_INDEXER_VERIFY_SAMPLE blobs verified longest
  ago; a mismatch or a missing blob is counted in
  `maestro_indexer_blobs_verified_total{result=...}` and
  `maestro_indexer_bad_blobs`;
- `gc`: blob garbage collection (`ArtifactContent.collect_garbage`).
Several replicas may run at once: a job is leased by one of them (FOR UPDATE
SKIP LOCKED on PostgreSQL; SQLite's write lock makes leases one at a time),
its lease is extended while it runs, and it is rescheduled only by its
holder. Progress and errors are Prometheus metrics, served on
MAESTRO_INDEXER_METRICS_PORT.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from maestro_grpc.blobs import BlobStore, create_blob_store
from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.config import Settings
from maestro_grpc.registry.artifacts import ArtifactLibrary
from maestro_grpc.registry.content import ArtifactContent
from maestro_grpc.registry.store.tables import artifacts
from maestro_grpc.store import jobs
from maestro_grpc.store.db import Database
from maestro_grpc.store.migrate import upgrade
from maestro_grpc.store.schema import worker_jobs

log = logging.getLogger("maestro.indexer")

QUEUE = "indexer"
IMPACT_SHARDS = "0123456789abcdef"
JOB_KEYS = (*(f"impact/{s}" for s in IMPACT_SHARDS), "verify", "gc")
# Artifacts rescored per transaction.
IMPACT_BATCH = 200
# A job's lease, renewed every third of it while the job runs.
LEASE = timedelta(minutes=5)
# A failed job is retried after this, doubling per attempt, at most the interval.
RETRY_BASE = timedelta(seconds=30)


class IndexerMetrics:
    """The indexer's Prometheus metrics (progress and errors)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.jobs = Counter(
            "maestro_indexer_jobs_total",
            "Indexer jobs run, by kind (impact, verify, gc) and outcome (ok, error).",
            ("job", "outcome"),
            registry=registry,
        )
        self.seconds = Histogram(
            "maestro_indexer_job_duration_seconds",
            "Time an indexer job took, by kind.",
            ("job",),
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900),
            registry=registry,
        )
        self.last_success = Gauge(
            "maestro_indexer_last_success_timestamp_seconds",
            "When a job of this kind last succeeded (Unix time).",
            ("job",),
            registry=registry,
        )
        self.rescored = Counter(
            "maestro_indexer_artifacts_rescored_total",
            "Artifacts whose usage count and impact score were recomputed.",
            registry=registry,
        )
        self.rescore_changed = Counter(
            "maestro_indexer_impact_scores_changed_total",
            "Recomputed artifacts whose usage count or impact score changed.",
            registry=registry,
        )
        self.verified = Counter(
            "maestro_indexer_blobs_verified_total",
            "Blobs re-hashed, by result: ok, mismatch (the bytes no longer hash to their "
            "address) or missing (gone from the blob store).",
            ("result",),
            registry=registry,
        )
        self.bad_blobs = Gauge(
            "maestro_indexer_bad_blobs",
            "Stored blobs whose last verification failed (mismatch or missing).",
            registry=registry,
        )
        self.collected = Counter(
            "maestro_indexer_blobs_collected_total",
            "Blobs removed by the garbage collector.",
            registry=registry,
        )
        self.collected_bytes = Counter(
            "maestro_indexer_blob_bytes_collected_total",
            "Bytes of the blobs removed by the garbage collector.",
            registry=registry,
        )
        self.gc_failures = Counter(
            "maestro_indexer_gc_failures_total",
            "Blobs the garbage collector failed to remove (retried on its next pass).",
            registry=registry,
        )
        self.swept = Counter(
            "maestro_indexer_upload_leftovers_swept_total",
            "Leftovers of abandoned uploads removed from the blob store (temporary files, "
            "staging objects, unfinished multipart uploads).",
            registry=registry,
        )
        for kind in ("impact", "verify", "gc"):
            for outcome in ("ok", "error"):
                self.jobs.labels(kind, outcome)
        for result in ("ok", "mismatch", "missing"):
            self.verified.labels(result)


def _shard_bounds(shard: str) -> tuple[uuid.UUID, uuid.UUID | None]:
    """The ids of a shard: from `<digit>000...` up to (not including) the next digit's."""
    lower = uuid.UUID(shard + "0" * 31)
    position = IMPACT_SHARDS.index(shard)
    if position + 1 == len(IMPACT_SHARDS):
        return lower, None
    return lower, uuid.UUID(IMPACT_SHARDS[position + 1] + "0" * 31)


class Indexer:
    """One indexer replica."""

    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        settings: Settings,
        *,
        owner: str = "",
        clock: Clock = utcnow,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.library = ArtifactLibrary(
            db, half_life_days=settings.impact_half_life_days, clock=clock
        )
        self.content = ArtifactContent(
            db, blobs, gc_grace=timedelta(seconds=settings.blob_gc_grace_seconds), clock=clock
        )
        self.interval = timedelta(seconds=settings.indexer_interval_seconds)
        self.sample = settings.indexer_verify_sample
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.registry = registry if registry is not None else CollectorRegistry()
        self.metrics = IndexerMetrics(self.registry)

    # ---- the queue -------------------------------------------------------------

    async def seed(self) -> None:
        """Make sure every periodic job has its row (a no-op for rows that exist)."""
        now = self.clock()
        insert = pg_insert if self.db.is_postgres else sqlite_insert
        async with self.db.write() as conn:
            await conn.execute(
                insert(worker_jobs)
                .values(
                    [
                        {
                            "queue": QUEUE,
                            "key": key,
                            "payload": {},
                            "generation": 1,
                            "run_after": now,
                            "attempts": 0,
                            "create_time": now,
                        }
                        for key in JOB_KEYS
                    ]
                )
                .on_conflict_do_nothing(index_elements=[worker_jobs.c.queue, worker_jobs.c.key])
            )

    async def _reschedule(self, job: jobs.Job) -> None:
        """Release a job we ran and set it to run again one interval from now."""
        now = self.clock()
        async with self.db.write() as conn:
            await conn.execute(
                update(worker_jobs)
                .where(worker_jobs.c.id == job.id, worker_jobs.c.lease_owner == self.owner)
                .values(
                    run_after=now + self.interval,
                    lease_owner=None,
                    lease_expire_time=None,
                    attempts=0,
                    last_error=None,
                )
            )

    async def _keep_lease(self, job: jobs.Job) -> None:
        """Extend the lease of a running job, so no other replica takes it meanwhile."""
        while True:
            await asyncio.sleep(LEASE.total_seconds() / 3)
            async with self.db.write() as conn:
                await conn.execute(
                    update(worker_jobs)
                    .where(worker_jobs.c.id == job.id, worker_jobs.c.lease_owner == self.owner)
                    .values(lease_expire_time=self.clock() + LEASE)
                )

    async def run_due(self) -> list[str]:
        """Run every job that is due (leasing them one at a time); the keys run here."""
        await self.seed()
        done: list[str] = []
        while True:
            leased = await jobs.lease(
                self.db, QUEUE, self.owner, now=self.clock(), limit=1, lease_for=LEASE
            )
            if not leased:
                return done
            if await self.run_job(leased[0]):
                done.append(leased[0].key)

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float = 5.0) -> None:
        """Run due jobs until `stop` is set, checking every `poll_seconds`."""
        poll = min(poll_seconds, self.interval.total_seconds())
        while not stop.is_set():
            try:
                await self.run_due()
            except Exception:  # the store is away: try again at the next poll
                log.exception("indexer pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll)

    async def run_job(self, job: jobs.Job) -> bool:
        """Run one leased job; reschedule it, or release it for a retry when it fails."""
        kind = job.key.split("/", 1)[0]
        started = time.perf_counter()
        keeper = asyncio.create_task(self._keep_lease(job))
        try:
            await self._dispatch(kind, job.key)
        except Exception as error:
            log.exception("indexer job %s failed (attempt %d)", job.key, job.attempts)
            self.metrics.jobs.labels(kind, "error").inc()
            retry = min(RETRY_BASE * 2 ** max(job.attempts - 1, 0), self.interval)
            await jobs.fail(self.db, job, self.owner, repr(error), now=self.clock(), retry_in=retry)
            return False
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            self.metrics.seconds.labels(kind).observe(time.perf_counter() - started)
        await self._reschedule(job)
        self.metrics.jobs.labels(kind, "ok").inc()
        self.metrics.last_success.labels(kind).set(time.time())
        return True

    async def _dispatch(self, kind: str, key: str) -> None:
        if kind == "impact":
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
        lower, upper = _shard_bounds(shard)
        rescored = changed = 0
        after: uuid.UUID | None = None
        while True:
            now: datetime = self.clock()
            async with self.db.write() as conn:
                query = (
                    select(artifacts.c.id, artifacts.c.usage_count, artifacts.c.impact_score)
                    .where(
                        artifacts.c.delete_time.is_(None),
                        or_(artifacts.c.usage_count > 0, artifacts.c.impact_score > 0),
                        artifacts.c.id >= lower,
                    )
                    .order_by(artifacts.c.id)
                    .limit(IMPACT_BATCH)
                )
                if upper is not None:
                    query = query.where(artifacts.c.id < upper)
                if after is not None:
                    query = query.where(artifacts.c.id > after)
                if self.db.is_postgres:
                    # Serialises with LogArtifactUsage, which locks the artifact too.
                    query = query.with_for_update()
                rows = list(await conn.execute(query))
                for row in rows:
                    count, score = await self.library.refresh_impact(conn, row.id, now)
                    rescored += 1
                    if count != row.usage_count or abs(score - row.impact_score) > 1e-9:
                        changed += 1
            self.metrics.rescored.inc(len(rows))
            if len(rows) < IMPACT_BATCH:
                break
            after = rows[-1].id
        self.metrics.rescore_changed.inc(changed)
        return rescored, changed

    async def verify(self) -> None:
        report = await self.content.verify_blobs(self.sample)
        for result in ("ok", "mismatch", "missing"):
            self.metrics.verified.labels(result).inc(getattr(report, result))
        self.metrics.bad_blobs.set(report.bad_total)

    async def collect_garbage(self) -> None:
        report = await self.content.collect_garbage()
        self.metrics.collected.inc(report.deleted)
        self.metrics.collected_bytes.inc(report.deleted_bytes)
        self.metrics.gc_failures.inc(report.failed)
        self.metrics.swept.inc(report.swept)
        if report.failed:
            raise RuntimeError(f"{report.failed} blob(s) could not be collected")


async def serve_indexer(settings: Settings, *, once: bool) -> int:
    """Run an indexer replica until SIGTERM/SIGINT (or one pass with `once`)."""
    db = Database(settings.store_url, pool_size=settings.db_pool_size)
    httpd: Any = None
    try:
        if settings.should_migrate_on_start:
            await upgrade(db)
        indexer = Indexer(db, create_blob_store(settings), settings)
        if once:
            done = await indexer.run_due()
            print(f"maestro worker indexer: ran {len(done)} job(s): {', '.join(done) or '-'}")
            return 0
        if settings.indexer_metrics_port is not None:
            httpd, _thread = start_http_server(
                settings.indexer_metrics_port,
                addr=settings.metrics_host,
                registry=indexer.registry,
            )
            print(
                f"maestro worker indexer: metrics on "
                f"http://{settings.metrics_host}:{httpd.server_port}/metrics",
                flush=True,
            )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print(f"maestro worker indexer: running as {indexer.owner}", flush=True)
        await indexer.run_forever(stop)
        return 0
    finally:
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        await db.dispose()


def main(settings: Settings, *, once: bool) -> int:
    return asyncio.run(serve_indexer(settings, once=once))
