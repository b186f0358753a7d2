"""The Metrics service: exactly-once ingest, summaries, velocity, DORA, live watch (issue #3)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from maestro_grpc.context import AppContext
from maestro_grpc.metrics.servicer import MetricsServicer

log = logging.getLogger("maestro.metrics")


def build_servicer(ctx: AppContext) -> MetricsServicer:
    from maestro_grpc.metrics.feed import Publisher, producers_channel
    from maestro_grpc.metrics.ingest import Ingestor
    from maestro_grpc.metrics.queries import Queries
    from maestro_grpc.metrics.stream import ByteBudget, StreamHandler, StreamLimits, StreamRegistry

    settings = ctx.settings
    prefix = settings.events_prefix
    ingest = Ingestor(
        ctx.db,
        clock=ctx.clock,
        feed=Publisher(ctx.events, prefix),
        rollup_delay=timedelta(seconds=settings.metrics_rollup_delay_seconds),
        max_concurrent_writes=settings.metrics_write_concurrency,
    )
    budget = ByteBudget(settings.metrics_ingest_buffer_bytes)
    registry = StreamRegistry()
    channel = producers_channel(prefix)
    listening: list[asyncio.Task[None]] = []

    async def listen() -> None:
        """End this replica's streams of producers that opened a newer stream elsewhere."""
        subscription = await ctx.events.subscribe(channel, max_queue=10_000)
        try:
            async for payload in subscription:
                producer_id, _, epoch = payload.decode().rpartition(" ")
                registry.supersede(producer_id, int(epoch))
        except Exception as error:  # the bus broke: the store still enforces epochs
            log.warning("producer announcements stopped: %s", error)
        finally:
            await ctx.events.unsubscribe(subscription)

    async def announce(producer_id: str, epoch: int) -> None:
        if not listening or listening[-1].done():
            # (Re)start listening: a bus that broke ended the last listener.
            task = asyncio.create_task(listen(), name="metrics-producer-announcements")
            listening.append(task)
            ctx.background.append(task)
        await ctx.events.publish(channel, f"{producer_id} {epoch}".encode())

    inprocess = settings.metrics_inprocess_worker
    if inprocess is None:
        inprocess = settings.is_embedded_store
    if inprocess:
        ctx.background.append(
            asyncio.create_task(_worker(ctx), name="metrics-rollup-worker-inprocess")
        )

    streams = StreamHandler(
        ingest,
        StreamLimits(
            max_inflight_batches=settings.metrics_max_inflight_batches,
            max_batch_rows=settings.metrics_max_batch_rows,
            lifetime_seconds=settings.stream_lifetime_seconds,
        ),
        budget,
        registry,
        announce=announce,
    )
    return MetricsServicer(
        ingest,
        streams,
        budget,
        Queries(
            ctx.db,
            clock=ctx.clock,
            raw_max=timedelta(days=settings.metrics_summary_raw_max_days),
            retention=timedelta(days=settings.metrics_raw_retention_days)
            if settings.metrics_raw_retention_days > 0
            else None,
        ),
        ctx.events,
        max_batch_rows=settings.metrics_max_batch_rows,
        events_prefix=prefix,
        watch_queue=settings.metrics_watch_queue,
    )


async def _worker(ctx: AppContext) -> None:
    """The rollup worker inside the server (the embedded store's default)."""
    from maestro_grpc.metrics.rollup import RollupWorker
    from workers.metrics_rollup import run_loop, worker_owner

    worker = RollupWorker(
        ctx.db,
        owner=worker_owner() + ":inprocess",
        clock=ctx.clock,
        retention_days=ctx.settings.metrics_raw_retention_days,
    )
    await run_loop(worker, ctx.settings.metrics_worker_interval_seconds, asyncio.Event())
