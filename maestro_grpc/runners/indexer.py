"""The artifact indexer as a process: `maestro worker indexer`, `python -m workers.indexer`.

Settings in; the context built by the composition root; SIGTERM and SIGINT
stop it; its Prometheus metrics are served on MAESTRO_INDEXER_METRICS_PORT;
then it runs due jobs every few seconds until stopped (or once, with
`once`). What the jobs are: `registry/domain/indexer.py`.
"""

from __future__ import annotations

import asyncio
import signal
import uuid

from maestro_grpc.app import build_context, build_indexer
from maestro_grpc.background import run_every, worker_owner
from maestro_grpc.config import Settings
from maestro_grpc.exposition import metrics_endpoint, process_registry
from maestro_grpc.store.migrate import upgrade
from maestro_grpc.telemetry import Passes, PassesCollector

NAME = "maestro worker indexer"
# How often a running indexer looks for due jobs (at most its interval).
POLL_SECONDS = 5.0


async def serve(settings: Settings, *, once: bool) -> int:
    """Run an indexer replica until SIGTERM/SIGINT (or one pass with `once`)."""
    prometheus = process_registry()
    passes = Passes("indexer")
    prometheus.register(PassesCollector(passes))
    ctx = build_context(settings, prometheus)
    try:
        if settings.should_migrate_on_start:
            await upgrade(ctx.db)
        indexer = build_indexer(ctx, f"{worker_owner()}:{uuid.uuid4().hex[:8]}")
        if once:
            done = await indexer.run_due()
            print(f"{NAME}: ran {len(done)} job(s): {', '.join(done) or '-'}")
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)

        async def run_due(stop: asyncio.Event) -> int:
            return len(await indexer.run_due(stop))

        port = settings.indexer_metrics_port
        with metrics_endpoint(
            NAME, prometheus, settings.metrics_host, port, setting="MAESTRO_INDEXER_METRICS_PORT"
        ):
            print(f"{NAME}: running as {indexer.owner}", flush=True)
            poll = min(POLL_SECONDS, settings.indexer_interval_seconds)
            await run_every(passes.counted(run_due), poll, stop, what="indexer jobs")
        return 0
    finally:
        await ctx.close()


def main(settings: Settings, *, once: bool) -> int:
    return asyncio.run(serve(settings, once=once))
