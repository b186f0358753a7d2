"""`maestro worker metrics`: keeps hourly and daily rollups, applies raw-point retention.

Any number of these may run against one PostgreSQL: each leases its jobs
(FOR UPDATE SKIP LOCKED). On SQLite one at a time is enough (the embedded
server runs one in process unless MAESTRO_METRICS_INPROCESS_WORKER=0).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket

from maestro_grpc.config import Settings
from maestro_grpc.metrics.rollup import RollupWorker
from maestro_grpc.store.db import Database
from maestro_grpc.store.migrate import upgrade

log = logging.getLogger("maestro.worker.metrics")


def worker_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def run_loop(worker: RollupWorker, interval: float, stop: asyncio.Event) -> None:
    """Process what is due every `interval` seconds until `stop` is set."""
    while not stop.is_set():
        try:
            processed = await worker.run_once()
            if processed:
                log.info("rolled up %d windows", processed)
        except Exception:
            log.exception("metrics worker pass failed; retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


async def run(settings: Settings, *, once: bool) -> int:
    db = Database(settings.store_url, pool_size=2)
    try:
        if settings.should_migrate_on_start:
            await upgrade(db)
        worker = RollupWorker(
            db, owner=worker_owner(), retention_days=settings.metrics_raw_retention_days
        )
        if once:
            processed = await worker.run_once()
            print(f"maestro worker metrics: rolled up {processed} windows")
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print("maestro worker metrics: running", flush=True)
        await run_loop(worker, settings.metrics_worker_interval_seconds, stop)
        return 0
    finally:
        await db.dispose()
