"""The composition root: the one place that builds Maestro's parts and wires them.

`build_app()` makes the store, the event bus, the blob store, each
context's store, domain and servicer, and the background work that runs in
the server (change feeds, the embedded metrics worker). Nothing else
constructs these: packages' `__init__.py` files hold no wiring, so importing
a read helper never drags in a servicer. `server.py` mounts what this builds
on a gRPC server; workers build what they need from the same functions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry

from maestro_grpc.blobs import BlobStore, create_blob_store
from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.config import Settings
from maestro_grpc.events import EventBus, InProcessBus, create_event_bus
from maestro_grpc.metrics.read import MetricsReader
from maestro_grpc.metrics.servicer import MetricsServicer
from maestro_grpc.registry.read import RegistryReader
from maestro_grpc.registry.servicer import RegistryServicer
from maestro_grpc.store.db import Database


@dataclass
class AppContext:
    """What every part of one process shares: settings, store, bus, blobs, clock."""

    settings: Settings
    db: Database
    blobs: BlobStore
    events: EventBus = field(default_factory=InProcessBus)
    clock: Clock = utcnow
    # Where parts register their own Prometheus collectors (None: nowhere).
    prometheus: CollectorRegistry | None = None
    # Background tasks the parts start; `close()` cancels them.
    background: list[asyncio.Task[Any]] = field(default_factory=list)

    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run `work` in the background for as long as this process runs."""
        task = asyncio.create_task(work, name=name)
        self.background.append(task)
        return task

    async def close(self) -> None:
        """Stop the background work, then close the bus and the store."""
        for task in self.background:
            task.cancel()
        for task in self.background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.events.close()
        await self.db.dispose()


@dataclass
class App:
    """A built Maestro: its shared context and one servicer per service."""

    ctx: AppContext
    registry: RegistryServicer
    metrics: MetricsServicer
    prediction: Any  # the lazy PredictionService servicer (see build_prediction)


def build_context(
    settings: Settings,
    prometheus: CollectorRegistry | None = None,
    *,
    pool_size: int | None = None,
) -> AppContext:
    """The shared parts, from the settings (`pool_size` overrides the store's pool)."""
    return AppContext(
        settings=settings,
        db=Database(settings.store_url, pool_size=pool_size or settings.db_pool_size),
        events=create_event_bus(settings.redis_url),
        blobs=create_blob_store(settings),
        prometheus=prometheus,
    )


def build_app(ctx: AppContext) -> App:
    """Every context's store, domain and servicer on `ctx` (starts their background work)."""
    return App(
        ctx=ctx,
        registry=build_registry(ctx),
        metrics=build_metrics(ctx),
        prediction=build_prediction(ctx),
    )


# ---- registry -----------------------------------------------------------------------------


def build_registry(ctx: AppContext) -> RegistryServicer:
    from maestro_grpc.registry.artifacts import ArtifactLibrary
    from maestro_grpc.registry.content import ArtifactContent
    from maestro_grpc.registry.project_cache import (
        CacheCollector,
        ChangeListener,
        ProjectCache,
    )
    from maestro_grpc.registry.projects import ProjectRegistry
    from maestro_grpc.registry.recommend import Recommender

    cache = ProjectCache(ctx.settings.project_cache_size if ctx.db.is_postgres else 0)
    if cache.max_entries > 0:
        if ctx.prometheus is not None:
            ctx.prometheus.register(CacheCollector(cache))
        ctx.spawn(ChangeListener(ctx.db.url, cache).run(), "project-change-feed")
    projects = ProjectRegistry(ctx.db, clock=ctx.clock, cache=cache)
    library = ArtifactLibrary(
        ctx.db, half_life_days=ctx.settings.impact_half_life_days, clock=ctx.clock
    )
    content = ArtifactContent(
        ctx.db,
        ctx.blobs,
        gc_grace=timedelta(seconds=ctx.settings.blob_gc_grace_seconds),
        clock=ctx.clock,
    )
    return RegistryServicer(projects, library, Recommender(ctx.db, projects), content=content)


# ---- metrics ------------------------------------------------------------------------------


def build_metrics(ctx: AppContext) -> MetricsServicer:
    from maestro_grpc.metrics import announce
    from maestro_grpc.metrics.feed import Publisher
    from maestro_grpc.metrics.ingest import Ingestor
    from maestro_grpc.metrics.queries import Queries
    from maestro_grpc.metrics.stream import ByteBudget, StreamHandler, StreamLimits, StreamRegistry

    settings = ctx.settings
    prefix = settings.events_prefix
    registry_read = RegistryReader(ctx.db)
    ingest = Ingestor(
        ctx.db,
        registry=registry_read,
        clock=ctx.clock,
        feed=Publisher(ctx.events, prefix),
        rollup_delay=timedelta(seconds=settings.metrics_rollup_delay_seconds),
        max_concurrent_writes=settings.metrics_write_concurrency,
    )
    budget = ByteBudget(settings.metrics_ingest_buffer_bytes)
    registry = StreamRegistry()
    announcements = announce.ProducerAnnouncements(ctx.events, prefix, registry, ctx.spawn)
    inprocess = settings.metrics_inprocess_worker
    if inprocess is None:
        inprocess = settings.is_embedded_store
    if inprocess:
        ctx.spawn(_inprocess_rollups(ctx), "metrics-rollup-worker-inprocess")
    streams = StreamHandler(
        ingest,
        StreamLimits(
            max_inflight_batches=settings.metrics_max_inflight_batches,
            max_batch_rows=settings.metrics_max_batch_rows,
            lifetime_seconds=settings.stream_lifetime_seconds,
        ),
        budget,
        registry,
        announce=announcements.announce,
    )
    return MetricsServicer(
        ingest,
        streams,
        budget,
        Queries(
            ctx.db,
            registry=registry_read,
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


def build_rollup_worker(ctx: AppContext, owner: str) -> Any:
    """The metrics rollup worker (`maestro worker metrics`, or in the embedded server)."""
    from maestro_grpc.metrics.rollup import RollupWorker

    return RollupWorker(
        ctx.db,
        owner=owner,
        clock=ctx.clock,
        retention_days=ctx.settings.metrics_raw_retention_days,
    )


async def _inprocess_rollups(ctx: AppContext) -> None:
    """The rollup worker inside the server (the embedded store's default)."""
    from maestro_grpc.background import run_every, worker_owner

    worker = build_rollup_worker(ctx, worker_owner() + ":inprocess")
    await run_every(
        worker.run_once,
        ctx.settings.metrics_worker_interval_seconds,
        asyncio.Event(),
        what="metrics worker pass",
    )


# ---- prediction ---------------------------------------------------------------------------


def build_prediction(ctx: AppContext) -> Any:
    """The PredictionService servicer, built on its first call (scikit-learn is heavy)."""
    from maestro.prediction.v1 import prediction_service_pb2, prediction_service_pb2_grpc
    from maestro_grpc.wire.lazy import lazy_servicer

    return lazy_servicer(
        prediction_service_pb2_grpc.PredictionServiceServicer,
        prediction_service_pb2.DESCRIPTOR.services_by_name["PredictionService"],
        lambda: build_prediction_servicer(ctx),
    )


def build_prediction_servicer(ctx: AppContext) -> Any:
    """The PredictionService's stores, domain and servicer."""
    from maestro_grpc.prediction.domain.experiments import Experiments
    from maestro_grpc.prediction.domain.observe import FeatureReader
    from maestro_grpc.prediction.domain.predictor import Predictor
    from maestro_grpc.prediction.domain.runner import TrainingRunner
    from maestro_grpc.prediction.domain.tracking import tracking_target
    from maestro_grpc.prediction.domain.versions import ModelVersions
    from maestro_grpc.prediction.store.experiments import ExperimentStore
    from maestro_grpc.prediction.store.metamodels import MetaModelStore
    from maestro_grpc.prediction.store.predictions import PredictionStore
    from maestro_grpc.prediction.wire.servicer import PredictionServicer

    registry, metrics = RegistryReader(ctx.db), MetricsReader(ctx.db)
    predictions = PredictionStore(ctx.db)
    predictor = Predictor(
        ModelVersions(MetaModelStore(ctx.db), predictions, registry),
        predictions,
        FeatureReader(registry, metrics, ctx.settings.impact_half_life_days),
        TrainingRunner(ctx.settings.training_processes),
        tracking_target(ctx.settings),
        clock=ctx.clock,
    )
    experiments = Experiments(
        ExperimentStore(ctx.db), registry=registry, metrics=metrics, clock=ctx.clock
    )
    return PredictionServicer(predictor, experiments)
