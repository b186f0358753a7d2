"""The composition root: the one place that builds Maestro's parts and wires them.

`build_app()` makes the store, the event bus, the blob store, each
context's store, domain and servicer, and the background work that runs in
the server (change feeds, the embedded metrics worker). Nothing else
constructs these: packages' `__init__.py` files hold no wiring, so importing
a read helper never drags in a servicer. `server.py` mounts what this builds
on a gRPC server; workers build what they need from the same functions.
"""

# long module: the one composition root of every context, kept in one place on purpose.
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry

from maestro_grpc import telemetry
from maestro_grpc.access.domain.audit import AuditLog
from maestro_grpc.access.domain.authorize import Authorizer
from maestro_grpc.access.domain.tokens import StaticTokens, Tokens
from maestro_grpc.access.model import NewToken
from maestro_grpc.access.wire.servicer import AccessServicer
from maestro_grpc.blobs import BlobStore, create_blob_store
from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.config import Settings
from maestro_grpc.events import BusSender, EventBus, InProcessBus, create_event_bus
from maestro_grpc.faults import relay_with_faults, with_faults
from maestro_grpc.limits import CallLimits, LocalRate, RedisRate, RequestRate, Slots
from maestro_grpc.metrics.domain.rollup import RollupWorker
from maestro_grpc.metrics.read import MetricsReader
from maestro_grpc.metrics.wire.servicer import MetricsServicer
from maestro_grpc.metrics.wire.telemetry import IngestCollector, RollupCollector
from maestro_grpc.people.read import PeopleReader
from maestro_grpc.people.wire.collaboration import CollaborationServicer
from maestro_grpc.people.wire.servicer import PeopleServicer
from maestro_grpc.prediction.wire.telemetry import TrainingMetrics
from maestro_grpc.registry.read import RegistryReader
from maestro_grpc.registry.wire.servicer import RegistryServicer
from maestro_grpc.store.db import Database
from maestro_grpc.store.listen import ChangeFeed
from maestro_grpc.store.secrets import shared_secret
from maestro_grpc.wire.pagetoken import PageTokens

# The name of the page-token key among the shared secrets.
PAGE_TOKEN_SECRET = "page-tokens"

# The channel migration 0006's trigger NOTIFYs on every change to a token.
TOKEN_CHANNEL = "maestro_token_changed"

if TYPE_CHECKING:
    from maestro_grpc.metrics.domain.feed import Watches
    from maestro_grpc.metrics.domain.ingest import Ingestor
    from maestro_grpc.metrics.domain.queries import Queries
    from maestro_grpc.people.domain.activity import Activity
    from maestro_grpc.registry.domain.indexer import Indexer
    from maestro_grpc.registry.domain.project_cache import ProjectCache
    from maestro_grpc.registry.model import Artifact
    from maestro_grpc.registry.outward import RegistryFeed


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
    # Page tokens under the key every replica shares (set by build_access).
    pages: PageTokens | None = None
    # Set when the process begins to shut down: long calls (StreamMetrics)
    # wind down the way their lifetime ends them, inside the grace period.
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    # What `close()` closes before the bus and the store (clients of their own).
    closers: list[Callable[[], Awaitable[object]]] = field(default_factory=list)

    def required_pages(self) -> PageTokens:
        assert self.pages is not None, "build_access() makes the page-token key first"
        return self.pages

    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run `work` in the background for as long as this process runs.

        It runs in a context of its own: a task started while serving a call
        must not inherit that call's principal or audit scope.
        """
        task = asyncio.create_task(work, name=name, context=contextvars.Context())
        self.background.append(task)
        return task

    async def close(self) -> None:
        """Stop the background work, then close the bus and the store."""
        for task in self.background:
            task.cancel()
        for task in self.background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for close in self.closers:
            with contextlib.suppress(Exception):
                await close()
        await self.events.close()
        await self.db.dispose()


@dataclass
class Access:
    """The Access context's parts: the interceptor needs them all."""

    tokens: Tokens
    authorizer: Authorizer
    audit_log: AuditLog
    servicer: AccessServicer


@dataclass
class App:
    """A built Maestro: its shared context and one servicer per service."""

    ctx: AppContext
    access: Access
    registry: RegistryServicer
    metrics: MetricsServicer
    prediction: Any  # the lazy PredictionService servicer (see build_prediction)
    people: PeopleServicer
    collaboration: CollaborationServicer


def build_context(
    settings: Settings,
    prometheus: CollectorRegistry | None = None,
    *,
    pool_size: int | None = None,
) -> AppContext:
    """The shared parts, from the settings (`pool_size` overrides the store's pool);
    with a Prometheus registry, the store's pools and the event bus report to it."""
    ctx = AppContext(
        settings=settings,
        db=Database(settings.store_url, pool_size=pool_size or settings.db_pool_size),
        events=with_faults(create_event_bus(settings.redis_url, settings.events_timeout_seconds)),
        blobs=create_blob_store(settings),
        prometheus=prometheus,
    )
    if prometheus is not None:
        ctx.events = telemetry.observed(ctx.db, ctx.events, prometheus)
    return ctx


def build_app(ctx: AppContext, access: Access) -> App:
    """Every context's store, domain and servicer on `ctx` (starts their background work)."""
    from maestro_grpc.access import caller
    from maestro_grpc.registry.outward import RegistryFeed

    activity = build_activity(ctx)
    relay = relay_with_faults(activity.relay)
    # Notes left in the outbox by a process that died before relaying them.
    ctx.spawn(activity.sweep(), "feed-outbox-sweep")
    registry = build_registry(ctx, RegistryFeed(actor=caller.person, relay=relay))
    return App(
        ctx=ctx,
        access=access,
        registry=registry,
        metrics=build_metrics(ctx),
        prediction=build_prediction(ctx, relay, activity.on_experiment_verdict),
        people=build_people(ctx),
        collaboration=build_collaboration(ctx, activity, registry.library.reviewed),
    )


# ---- access -------------------------------------------------------------------------------


async def build_access(ctx: AppContext) -> Access:
    """Tokens (static ones taken out of the settings), the authorizer, the audit log.

    The static tokens' secrets leave the settings here: only their hashes are
    kept from now on.
    """
    from maestro_grpc.access.store.audit import AuditStore
    from maestro_grpc.access.store.tokens import TokenStore

    static = StaticTokens(ctx.settings.auth_tokens)
    ctx.settings = replace(ctx.settings, auth_tokens={})
    registry = RegistryReader(ctx.db)
    tokens = Tokens(
        TokenStore(ctx.db),
        static,
        existing_projects=registry.existing_projects,
        person_exists=PeopleReader(ctx.db).exists,
        clock=ctx.clock,
    )
    await tokens.refresh()
    audit_log = AuditLog(AuditStore(ctx.db), clock=ctx.clock)
    if ctx.db.is_postgres:
        feed = ChangeFeed(
            ctx.db.url,
            TOKEN_CHANNEL,
            tokens.on_change,
            on_up=tokens.arm,
            on_down=tokens.disarm,
            application_name="maestro-token-change-feed",
        )
        ctx.spawn(feed.run(), "token-change-feed")
    ctx.spawn(audit_log.run(), "audit-denials")
    ctx.spawn(tokens.run_flusher(), "token-last-use")
    authorizer = Authorizer(
        artifact_origins=registry.artifact_origins, member_projects=registry.member_projects
    )
    pages = PageTokens(await shared_secret(ctx.db, PAGE_TOKEN_SECRET))
    ctx.pages = pages
    return Access(tokens, authorizer, audit_log, AccessServicer(tokens, audit_log, pages))


async def bootstrap_admin(settings: Settings, name: str) -> NewToken:
    """`maestro token bootstrap`: the first admin token, straight into the store."""
    from maestro_grpc import audit
    from maestro_grpc.access.store.tokens import TokenStore
    from maestro_grpc.store.migrate import upgrade

    ctx = build_context(settings, pool_size=1)
    try:
        if settings.should_migrate_on_start:
            await upgrade(ctx.db)
        registry = RegistryReader(ctx.db)
        tokens = Tokens(
            TokenStore(ctx.db),
            StaticTokens({}),
            existing_projects=registry.existing_projects,
            clock=ctx.clock,
        )
        scope = audit.AuditScope(
            method="maestro token bootstrap",
            request_id="",
            peer="local",
            token_id=None,
            token_name="",
        )
        with audit.scope(scope):
            return await tokens.bootstrap(name)
    finally:
        await ctx.close()


# ---- limits -------------------------------------------------------------------------------


def build_limits(ctx: AppContext) -> CallLimits:
    """Per-caller and server-wide limits; the request rate is shared through Redis when
    MAESTRO_REDIS_URL names one (`ctx.clock` reads the time: tests move it)."""
    limits = ctx.settings.limits
    rate: RequestRate | None = None
    if limits.rate > 0 and ctx.settings.redis_url:
        rate = RedisRate(
            ctx.settings.redis_url, ctx.settings.events_prefix, limits.rate, limits.bucket_size
        )
    elif limits.rate > 0:
        rate = LocalRate(limits.rate, limits.bucket_size)
    built = CallLimits(
        streams=Slots(limits.streams),
        watches=Slots(limits.watches),
        transfers=Slots(limits.transfers),
        downloads=Slots(limits.downloads),
        rate=rate,
        clock=ctx.clock,
    )
    ctx.closers.append(built.close)
    return built


# ---- registry -----------------------------------------------------------------------------


def build_registry(ctx: AppContext, changes: RegistryFeed | None = None) -> RegistryServicer:
    """The registry's stores, domain and servicer; on PostgreSQL the project cache and
    the change feed that keeps it honest."""
    from maestro_grpc.registry.domain.artifacts import ArtifactLibrary
    from maestro_grpc.registry.domain.content.downloads import ContentDownloads
    from maestro_grpc.registry.domain.content.uploads import ContentUploads
    from maestro_grpc.registry.domain.project_cache import ProjectCache
    from maestro_grpc.registry.domain.projects import ProjectRegistry
    from maestro_grpc.registry.domain.recommend import Recommender
    from maestro_grpc.registry.model import Project
    from maestro_grpc.registry.store import change_feed
    from maestro_grpc.registry.store.artifacts import ArtifactStore
    from maestro_grpc.registry.store.content_blobs import ContentBlobs
    from maestro_grpc.registry.store.projects import ProjectStore
    from maestro_grpc.registry.store.recommend import RecommendStore
    from maestro_grpc.registry.store.search import SearchStore
    from maestro_grpc.registry.store.teams import TeamStore
    from maestro_grpc.registry.store.usages import UsageStore
    from maestro_grpc.registry.wire.telemetry import CacheCollector

    db, clock = ctx.db, ctx.clock
    # The cache answers only while the change feed keeps it honest: none without one.
    cache_size = ctx.settings.project_cache_size if change_feed.available(db) else 0
    cache = ProjectCache[Project](cache_size)
    if cache.max_entries > 0:
        if ctx.prometheus is not None:
            ctx.prometheus.register(CacheCollector(cache))
        ctx.spawn(change_feed.ChangeListener(db.url, cache).run(), "project-change-feed")
    artifact_cache = _artifact_cache(ctx)
    projects = ProjectRegistry(
        ProjectStore(db),
        TeamStore(db),
        clock=clock,
        cache=cache,
        people=PeopleReader(db).resolve,
        **({} if changes is None else {"changes": changes}),
    )
    library = ArtifactLibrary(
        ArtifactStore(db),
        SearchStore(db, count_limit=ctx.settings.search_count_limit),
        UsageStore(db),
        half_life_days=ctx.settings.impact_half_life_days,
        clock=clock,
        cache=artifact_cache,
        reviews=PeopleReader(db).review_summaries,
        **({} if changes is None else {"changes": changes}),
    )
    rows = ContentBlobs(db)
    return RegistryServicer(
        projects,
        library,
        Recommender(RecommendStore(db), projects, reviews=PeopleReader(db).review_summaries),
        uploads=ContentUploads(rows, ctx.blobs, clock=clock, cache=artifact_cache),
        downloads=ContentDownloads(rows, ctx.blobs, clock=clock),
        pages=ctx.required_pages(),
        answers_kept=cache.max_entries,
        artifact_answers_kept=artifact_cache.max_entries,
    )


def _artifact_cache(ctx: AppContext) -> ProjectCache[Artifact]:
    """GetArtifact's cache, and on PostgreSQL the change feed that keeps it honest."""
    from maestro_grpc.registry.domain.project_cache import ProjectCache
    from maestro_grpc.registry.model import Artifact
    from maestro_grpc.registry.store import change_feed
    from maestro_grpc.registry.wire.telemetry import CacheCollector

    available = change_feed.available(ctx.db)
    cache = ProjectCache[Artifact](ctx.settings.artifact_cache_size if available else 0)
    if cache.max_entries > 0:
        if ctx.prometheus is not None:
            ctx.prometheus.register(CacheCollector(cache, "artifact"))
        listener = change_feed.ChangeListener(
            ctx.db.url,
            cache,
            channel=change_feed.ARTIFACT_CHANNEL,
            application_name=change_feed.ARTIFACT_APPLICATION_NAME,
        )
        ctx.spawn(listener.run(), "artifact-change-feed")
    return cache


def build_indexer(ctx: AppContext, owner: str) -> Indexer:
    """The artifact indexer (`maestro worker indexer`): impact scores, blob checks, blob GC,
    and the audit log's retention when MAESTRO_AUDIT_RETENTION_DAYS is set.

    Its progress goes to `ctx.prometheus` when there is one.
    """
    from maestro_grpc.access.store.audit import AuditStore
    from maestro_grpc.registry.domain.content.upkeep import ContentUpkeep
    from maestro_grpc.registry.domain.indexer import QUEUE, Indexer, IndexerSchedule
    from maestro_grpc.registry.store.content_blobs import ContentBlobs
    from maestro_grpc.registry.store.indexer import IndexerStore
    from maestro_grpc.registry.wire.telemetry import IndexerMetrics

    settings = ctx.settings
    extra: dict[str, Callable[[], Awaitable[object]]] = {}
    if settings.audit_retention_days > 0:
        audit_log = AuditLog(AuditStore(ctx.db), clock=ctx.clock)
        extra["audit"] = functools.partial(audit_log.apply_retention, settings.audit_retention_days)
    upkeep = ContentUpkeep(
        ContentBlobs(ctx.db),
        ctx.blobs,
        gc_grace=timedelta(seconds=settings.blob_gc_grace_seconds),
        clock=ctx.clock,
    )
    return Indexer(
        IndexerStore(ctx.db, QUEUE),
        upkeep,
        owner=owner,
        schedule=IndexerSchedule(
            interval=timedelta(seconds=settings.indexer_interval_seconds),
            verify_sample=settings.indexer_verify_sample,
            half_life_days=settings.impact_half_life_days,
        ),
        clock=ctx.clock,
        observer=None
        if ctx.prometheus is None
        else IndexerMetrics(ctx.prometheus, interval_seconds=settings.indexer_interval_seconds),
        extra_jobs=extra,
    )


# ---- people -------------------------------------------------------------------------------


def build_people(ctx: AppContext) -> PeopleServicer:
    """The directory: its store, its domain (reading teams through the registry's read
    API) and PeopleService."""
    from maestro_grpc.people.domain.directory import Directory
    from maestro_grpc.people.store.people import PeopleStore

    directory = Directory(PeopleStore(ctx.db), RegistryReader(ctx.db), clock=ctx.clock)
    return PeopleServicer(directory, ctx.required_pages())


def build_activity(ctx: AppContext) -> Activity:
    """The feed's domain: the registry tells it its changes, the discussion its events."""
    from maestro_grpc.access import caller
    from maestro_grpc.people.domain.activity import Activity
    from maestro_grpc.people.store.activity import ActivityStore
    from maestro_grpc.people.store.people import PeopleStore

    return Activity(
        ActivityStore(ctx.db),
        PeopleStore(ctx.db),
        RegistryReader(ctx.db),
        actor=caller.person,
        clock=ctx.clock,
    )


def build_collaboration(
    ctx: AppContext, activity: Activity, reviewed: Any = None
) -> CollaborationServicer:
    """`reviewed`: told of each review's artifact (the registry's GetArtifact cache)."""
    from maestro_grpc.people.domain.discussion import Discussion
    from maestro_grpc.people.domain.webhooks import Webhooks, httpx_post
    from maestro_grpc.people.store.discussion import DiscussionStore
    from maestro_grpc.people.store.people import PeopleStore
    from maestro_grpc.people.store.webhooks import WebhookStore

    discussion = Discussion(
        DiscussionStore(ctx.db),
        PeopleStore(ctx.db),
        RegistryReader(ctx.db),
        activity,
        clock=ctx.clock,
        **({} if reviewed is None else {"reviewed": reviewed}),
    )
    post, close = httpx_post()
    ctx.closers.append(close)
    webhooks = Webhooks(
        WebhookStore(ctx.db),
        post,
        retry=timedelta(seconds=ctx.settings.webhook_retry_seconds),
        clock=ctx.clock,
    )
    activity.listeners.append(webhooks.wake)
    ctx.spawn(webhooks.run(), "webhook-sender")
    return CollaborationServicer(discussion, activity, webhooks, ctx.required_pages())


# ---- metrics ------------------------------------------------------------------------------


def build_metrics(ctx: AppContext) -> MetricsServicer:
    from maestro_grpc.metrics.domain.announce import ProducerAnnouncements
    from maestro_grpc.metrics.domain.streams import (
        ByteBudget,
        StreamLimits,
        StreamRegistry,
        Streams,
    )
    from maestro_grpc.metrics.wire.stream import StreamHandler

    settings = ctx.settings
    prefix = settings.events_prefix
    registry_read = RegistryReader(ctx.db)
    sender = BusSender(ctx.events)  # all the context publishes, off every request's path
    ctx.spawn(sender.run(), "metrics-event-bus-sender")
    ingest = _ingestor(ctx, registry_read, sender)
    budget = ByteBudget(settings.metrics_ingest_buffer_bytes)
    streams = StreamRegistry()
    announcements = ProducerAnnouncements(ctx.events, sender, prefix, streams, ctx.spawn)
    inprocess = settings.metrics_inprocess_worker
    if inprocess is None:
        inprocess = settings.is_embedded_store
    if inprocess:
        ctx.spawn(_inprocess_rollups(ctx), "metrics-rollup-worker-inprocess")
    limits = StreamLimits(
        max_inflight_batches=settings.metrics_max_inflight_batches,
        max_batch_rows=settings.metrics_max_batch_rows,
        lifetime_seconds=settings.stream_lifetime_seconds,
    )
    servicer = MetricsServicer(
        ingest,
        StreamHandler(
            Streams(ingest, limits, budget, streams, announcements.announce, ctx.closing), ctx.clock
        ),
        budget,
        _queries(ctx, registry_read),
        _watches(ctx, registry_read),
        clock=ctx.clock,
        max_batch_rows=settings.metrics_max_batch_rows,
    )
    if ctx.prometheus is not None:
        ctx.prometheus.register(IngestCollector(servicer.counts, budget, streams))
    return servicer


def _watches(ctx: AppContext, registry: RegistryReader) -> Watches:
    """WatchMetrics' watchers, and the trimming of the feed they read."""
    from maestro_grpc.metrics.domain.feed import FeedRetention, Watches, WatchLimits
    from maestro_grpc.metrics.store.feed import FeedStore

    settings, feed = ctx.settings, FeedStore(ctx.db)
    retention = timedelta(seconds=settings.metrics_watch_retention_seconds)
    ctx.spawn(FeedRetention(feed, ctx.clock, retention).run(), "metrics-feed-trim")
    limits = WatchLimits(settings.metrics_watch_queue, settings.metrics_watch_poll_seconds)
    return Watches(ctx.events, settings.events_prefix, registry=registry, feed=feed, limits=limits)


def _ingestor(ctx: AppContext, registry: RegistryReader, sender: BusSender) -> Ingestor:
    from maestro_grpc.metrics.domain.feed import Publisher
    from maestro_grpc.metrics.domain.ingest import Ingestor
    from maestro_grpc.metrics.store.ingest import IngestStore
    from maestro_grpc.metrics.wire.feed import encode

    return Ingestor(
        IngestStore(ctx.db, encode),
        registry=registry,
        clock=ctx.clock,
        feed=Publisher(ctx.events, sender, ctx.settings.events_prefix),
        rollup_delay=timedelta(seconds=ctx.settings.metrics_rollup_delay_seconds),
        max_concurrent_writes=ctx.settings.metrics_write_concurrency,
    )


def _queries(ctx: AppContext, registry: RegistryReader) -> Queries:
    from maestro_grpc.metrics.domain.queries import Queries
    from maestro_grpc.metrics.store.queries import QueryStore
    from maestro_grpc.metrics.store.summaries import SummaryStore

    retention_days = ctx.settings.metrics_raw_retention_days
    return Queries(
        QueryStore(ctx.db),
        SummaryStore(ctx.db),
        registry=registry,
        clock=ctx.clock,
        raw_max=timedelta(days=ctx.settings.metrics_summary_raw_max_days),
        retention=timedelta(days=retention_days) if retention_days > 0 else None,
    )


def build_rollup_worker(ctx: AppContext, owner: str) -> RollupWorker:
    """The metrics rollup worker (`maestro worker metrics`, or in the embedded server)."""
    from maestro_grpc.metrics.store.rollups import RollupStore

    return RollupWorker(
        RollupStore(ctx.db),
        owner=owner,
        clock=ctx.clock,
        retention_days=ctx.settings.metrics_raw_retention_days,
    )


async def _inprocess_rollups(ctx: AppContext) -> None:
    """The rollup worker inside the server (the embedded store's default)."""
    from maestro_grpc.background import run_every, worker_owner

    worker = build_rollup_worker(ctx, worker_owner() + ":inprocess")
    if ctx.prometheus is not None:
        ctx.prometheus.register(RollupCollector(worker))
        ctx.spawn(
            run_every(worker.look, 15.0, asyncio.Event(), what="rollup queue"), "rollup-queue"
        )
    await run_every(
        worker.run_once,
        ctx.settings.metrics_worker_interval_seconds,
        asyncio.Event(),
        what="metrics worker pass",
    )


# ---- prediction ---------------------------------------------------------------------------


def build_prediction(ctx: AppContext, moved: Any = None, verdicts: Any = None) -> Any:
    """The PredictionService servicer, built on its first call (scikit-learn is heavy)."""
    from maestro.prediction.v1 import prediction_service_pb2, prediction_service_pb2_grpc
    from maestro_grpc.wire.lazy import lazy_servicer

    observer = None if ctx.prometheus is None else TrainingMetrics(ctx.prometheus)
    return lazy_servicer(
        prediction_service_pb2_grpc.PredictionServiceServicer,
        prediction_service_pb2.DESCRIPTOR.services_by_name["PredictionService"],
        lambda: build_prediction_servicer(ctx, observer, moved, verdicts),
    )


def build_prediction_servicer(
    ctx: AppContext, observer: Any = None, moved: Any = None, verdicts: Any = None
) -> Any:
    """The PredictionService's stores, domain and servicer (`observer`: of training runs;
    `moved`: moves committed feed notes into the feed; `verdicts`: the feed's sink for
    reached verdicts)."""
    from maestro_grpc.access import caller
    from maestro_grpc.prediction.domain.experiments import Experiments
    from maestro_grpc.prediction.domain.observe import FeatureReader
    from maestro_grpc.prediction.domain.predictor import Predictor
    from maestro_grpc.prediction.domain.runner import TrainingRunner
    from maestro_grpc.prediction.domain.tracking import tracking_target
    from maestro_grpc.prediction.domain.versions import ModelVersions
    from maestro_grpc.prediction.model import MoveAlert
    from maestro_grpc.prediction.store.experiments import ExperimentStore
    from maestro_grpc.prediction.store.metamodels import MetaModelStore
    from maestro_grpc.prediction.store.predictions import PredictionStore
    from maestro_grpc.prediction.wire.servicer import PredictionServicer

    registry, metrics = RegistryReader(ctx.db), MetricsReader(ctx.db)
    predictions = PredictionStore(ctx.db)
    predictor = Predictor(
        ModelVersions(MetaModelStore(ctx.db), predictions, registry),
        predictions,
        FeatureReader(
            registry, metrics, ctx.settings.impact_half_life_days, people=PeopleReader(ctx.db)
        ),
        TrainingRunner(ctx.settings.training_processes, ctx.settings.training_jobs),
        tracking_target(ctx.settings),
        clock=ctx.clock,
        observer=observer,
        moves=None
        if moved is None
        else MoveAlert(moved, ctx.settings.feed_prediction_move, actor=caller.person),
    )
    experiments = Experiments(
        ExperimentStore(ctx.db),
        registry=registry,
        metrics=metrics,
        clock=ctx.clock,
        verdicts=verdicts,
    )
    return PredictionServicer(predictor, experiments, ctx.required_pages())
