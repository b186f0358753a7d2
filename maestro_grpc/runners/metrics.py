"""`maestro worker metrics`: keeps hourly and daily rollups, applies raw-point retention.

Any number of these may run against one PostgreSQL: each leases its jobs
(FOR UPDATE SKIP LOCKED). On SQLite one at a time is enough (the embedded
server runs one in process unless MAESTRO_METRICS_INPROCESS_WORKER=0).
"""

from __future__ import annotations

import asyncio
import logging
import signal

from maestro_grpc.app import build_context, build_rollup_worker
from maestro_grpc.background import run_every, worker_owner
from maestro_grpc.config import Settings
from maestro_grpc.store.migrate import upgrade

log = logging.getLogger("maestro.worker.metrics")


async def run(settings: Settings, *, once: bool) -> int:
    ctx = build_context(settings, pool_size=2)
    try:
        if settings.should_migrate_on_start:
            await upgrade(ctx.db)
        worker = build_rollup_worker(ctx, worker_owner())
        if once:
            processed = await worker.run_once()
            print(f"maestro worker metrics: rolled up {processed} windows")
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print("maestro worker metrics: running", flush=True)
        await run_every(
            worker.run_once,
            settings.metrics_worker_interval_seconds,
            stop,
            what="rolled up windows",
            logger=log,
        )
        return 0
    finally:
        await ctx.close()
