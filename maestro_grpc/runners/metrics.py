"""`maestro worker metrics`: keeps hourly and daily rollups, applies raw-point retention.

Its Prometheus metrics (its passes, the rollup queue, points left in the
DEFAULT partition, its pool and process) are served on
MAESTRO_METRICS_WORKER_PORT; the queue is looked at every LOOK_SECONDS.
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
from maestro_grpc.exposition import metrics_endpoint, process_registry
from maestro_grpc.metrics.wire.telemetry import RollupCollector
from maestro_grpc.store.migrate import upgrade
from maestro_grpc.telemetry import Passes, PassesCollector

log = logging.getLogger("maestro.worker.metrics")
NAME = "maestro worker metrics"
# How often the rollup queue and the DEFAULT partition are counted.
LOOK_SECONDS = 15.0


async def run(settings: Settings, *, once: bool) -> int:
    prometheus = process_registry()
    passes = Passes("metrics")
    prometheus.register(PassesCollector(passes))
    ctx = build_context(settings, prometheus, pool_size=2)
    try:
        if settings.should_migrate_on_start:
            await upgrade(ctx.db)
        worker = build_rollup_worker(ctx, worker_owner())
        prometheus.register(RollupCollector(worker))
        if once:
            processed = await worker.run_once()
            print(f"maestro worker metrics: rolled up {processed} windows")
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        port = settings.metrics_worker_port
        with metrics_endpoint(
            NAME, prometheus, settings.metrics_host, port, setting="MAESTRO_METRICS_WORKER_PORT"
        ):
            print(f"{NAME}: running", flush=True)
            look = ctx.spawn(
                run_every(worker.look, LOOK_SECONDS, stop, what="rollup queue", logger=log),
                "rollup-queue-figures",
            )
            await run_every(
                passes.counted(worker.run_once),
                settings.metrics_worker_interval_seconds,
                stop,
                what="rolled up windows",
                logger=log,
            )
            await look
        return 0
    finally:
        await ctx.close()
