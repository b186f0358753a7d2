"""Figures every Maestro process shares, for Prometheus: the store, the event bus, TLS, passes.

Each part keeps plain counts (or is asked at scrape time) and a collector
here turns them into metric families: the database pools of any process,
whether the server's store answers, what goes through the event bus (the
bus is wrapped, so the bus itself stays plain), when the certificates the
server loaded expire, and how the workers' passes go. A family is exported
from the first scrape on, with zeros or without samples, so dashboards and
alerts never refer to a name a running process does not know.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from maestro_grpc.config import ConfigError
from maestro_grpc.events import EventBus, RedisBus, Subscription
from maestro_grpc.store.db import Database

# ---- the store --------------------------------------------------------------------


class PoolCollector(Collector):
    """The database pools of one process: connections in use and idle, and the most."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        connections = GaugeMetricFamily(
            "maestro_db_pool_connections",
            "Database connections of this process, by pool (write, read) and state (in_use, idle).",
            labels=("pool", "state"),
        )
        most = GaugeMetricFamily(
            "maestro_db_pool_max_connections",
            "The most connections a pool opens (its size plus its overflow).",
            labels=("pool",),
        )
        for pool in self.db.pool_figures():
            connections.add_metric((pool.name, "in_use"), pool.in_use)
            connections.add_metric((pool.name, "idle"), pool.idle)
            most.add_metric((pool.name,), pool.max_connections)
        yield connections
        yield most


class StoreUpCollector(Collector):
    """1 while the store answered the last health check (`reachable()`), else 0."""

    def __init__(self, reachable: Callable[[], bool]) -> None:
        self.reachable = reachable

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "maestro_store_up",
            "1 while the store answered the server's last health check, 0 while it does not.",
            value=1 if self.reachable() else 0,
        )


# ---- the event bus ----------------------------------------------------------------


class ObservedBus:
    """An EventBus that counts what passes through it; everything else is the bus's own."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.kind = "redis" if isinstance(bus, RedisBus) else "in_process"
        self.published = 0
        self.publish_failures = 0
        self.subscribe_failures = 0
        self.subscriptions = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bus, name)

    def may_have_subscribers(self, prefix: str = "") -> bool:
        return self.bus.may_have_subscribers(prefix)

    async def publish(self, channel: str, payload: bytes) -> None:
        try:
            await self.bus.publish(channel, payload)
        except BaseException:
            self.publish_failures += 1
            raise
        self.published += 1

    async def subscribe(self, channel: str, *, max_queue: int = 1000) -> Subscription:
        try:
            subscription = await self.bus.subscribe(channel, max_queue=max_queue)
        except BaseException:
            self.subscribe_failures += 1
            raise
        self.subscriptions += 1
        return subscription

    async def unsubscribe(self, subscription: Subscription) -> None:
        self.subscriptions -= 1
        await self.bus.unsubscribe(subscription)

    async def close(self) -> None:
        await self.bus.close()


def observed(db: Database, bus: EventBus, registry: CollectorRegistry) -> ObservedBus:
    """Report `db`'s pools and `bus` to `registry`; the bus to use from now on."""
    watched = ObservedBus(bus)
    registry.register(BusCollector(watched))
    registry.register(PoolCollector(db))
    return watched


class BusCollector(Collector):
    def __init__(self, bus: ObservedBus) -> None:
        self.bus = bus

    def collect(self) -> Iterator[Metric]:
        bus = self.bus
        info = GaugeMetricFamily(
            "maestro_event_bus_info",
            "The event bus between replicas: redis, or in_process (one replica).",
            labels=("kind",),
        )
        info.add_metric((bus.kind,), 1)
        yield info
        yield CounterMetricFamily(
            "maestro_event_bus_published",
            "Messages published on the event bus (writes announced to watchers, stream opens).",
            value=bus.published,
        )
        yield CounterMetricFamily(
            "maestro_event_bus_publish_failures",
            "Publishes the event bus refused or did not take in time (Redis down or frozen).",
            value=bus.publish_failures,
        )
        yield CounterMetricFamily(
            "maestro_event_bus_subscribe_failures",
            "Subscriptions the event bus could not make (a watch then fails UNAVAILABLE).",
            value=bus.subscribe_failures,
        )
        yield GaugeMetricFamily(
            "maestro_event_bus_subscriptions",
            "Subscriptions open on the event bus (one per live watch).",
            value=bus.subscriptions,
        )


# ---- TLS --------------------------------------------------------------------------


def certificate_expiry(pem: bytes) -> float:
    """When the first certificate of a PEM chain stops being valid (Unix time)."""
    from cryptography import x509

    (first, *_rest) = x509.load_pem_x509_certificates(pem)
    return first.not_valid_after_utc.timestamp()


class CertificateCollector(Collector):
    """When each certificate the server loaded at start expires (it rereads none)."""

    def __init__(self, certificates: Mapping[str, bytes]) -> None:
        self.expiry: dict[str, float] = {}
        for name, pem in certificates.items():
            try:
                self.expiry[name] = certificate_expiry(pem)
            except ValueError as error:
                raise ConfigError(f"TLS: the {name} certificate is not PEM: {error}") from None

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "maestro_tls_certificate_expiry_timestamp_seconds",
            "When a certificate the server serves or trusts expires (Unix time), by "
            "certificate (server, client_ca). Loaded at start: restart after renewing.",
            labels=("certificate",),
        )
        for name, expiry in sorted(self.expiry.items()):
            family.add_metric((name,), expiry)
        yield family


# ---- worker passes ----------------------------------------------------------------

Work = Callable[[Any], Awaitable[int]]


class Passes:
    """Counts a worker's passes (`run_every` work): how many, how they ended, the last good one."""

    def __init__(self, worker: str) -> None:
        self.worker = worker
        self.ok = 0
        self.failed = 0
        self.items = 0
        self.last_success = 0.0

    def counted(self, work: Work) -> Work:
        """`work`, counted."""

        async def run(stop: Any) -> int:
            try:
                done = await work(stop)
            except Exception:
                self.failed += 1
                raise
            self.ok += 1
            self.items += done
            self.last_success = time.time()
            return done

        return run


class PassesCollector(Collector):
    def __init__(self, passes: Passes) -> None:
        self.passes = passes

    def collect(self) -> Iterator[Metric]:
        p = self.passes
        runs = CounterMetricFamily(
            "maestro_worker_passes",
            "Passes of a background worker (metrics, indexer), by outcome (ok, error).",
            labels=("worker", "outcome"),
        )
        runs.add_metric((p.worker, "ok"), p.ok)
        runs.add_metric((p.worker, "error"), p.failed)
        yield runs
        items = CounterMetricFamily(
            "maestro_worker_items",
            "What a worker's passes did (rollup windows, indexer jobs).",
            labels=("worker",),
        )
        items.add_metric((p.worker,), p.items)
        yield items
        last = GaugeMetricFamily(
            "maestro_worker_last_success_timestamp_seconds",
            "When a pass of the worker last ended without error (Unix time; 0: not yet).",
            labels=("worker",),
        )
        last.add_metric((p.worker,), p.last_success)
        yield last
