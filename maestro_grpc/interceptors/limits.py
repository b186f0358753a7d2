"""Per-caller limits on every call: a request rate, and slots for long calls.

Runs after authentication, so it knows the principal (`access/caller.py`).
Each call takes a token of its caller's request rate (when one is set);
StreamMetrics, WatchMetrics and content transfers also hold a slot of their
kind for the caller while they run, and a download one of the server's
download slots. Over a limit the call is RESOURCE_EXHAUSTED with a stable
reason and a RetryInfo, before anything of it is parsed or run; a slot is
given back when the call ends, however it ends. Health, reflection and
WhoAmI are never limited, so that an operator can always look.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, NamedTuple

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from maestro.access.v1 import access_service_pb2
from maestro.metrics.v1 import metrics_service_pb2
from maestro.registry.v1 import registry_service_pb2
from maestro_grpc.access import caller
from maestro_grpc.blobs import ReadBudget
from maestro_grpc.errors import ResourceExhausted
from maestro_grpc.interceptors.base import CallInfo, WrappingInterceptor
from maestro_grpc.limits import CallLimits, Slots

# A slot frees when another call ends, which nobody can foretell: a hint.
SLOT_RETRY_SECONDS = 1.0
# The whole server's download slots are all under this one key.
SERVER = ""


def _path(module: Any, service: str, method: str) -> str:
    """A method's path (`/pkg.Service/Method`), from the descriptor: a typo fails at import."""
    found = module.DESCRIPTOR.services_by_name[service].methods_by_name[method]
    return f"/{found.containing_service.full_name}/{found.name}"


STREAM_METRICS = _path(metrics_service_pb2, "MetricsService", "StreamMetrics")
WATCH_METRICS = _path(metrics_service_pb2, "MetricsService", "WatchMetrics")
UPLOAD = _path(registry_service_pb2, "RegistryService", "UploadArtifactContent")
DOWNLOAD = _path(registry_service_pb2, "RegistryService", "DownloadArtifactContent")
UNLIMITED = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.",
    _path(access_service_pb2, "AccessService", "WhoAmI"),
)


class _Held(NamedTuple):
    """Slots a method's calls hold: whose (each caller's, or the server's), and what
    a refusal says."""

    slots: Slots
    per_caller: bool
    reason: str
    what: str


class LimitsInterceptor(WrappingInterceptor):
    def __init__(self, limits: CallLimits) -> None:
        self.limits = limits
        transfers = _Held(
            limits.transfers, True, "TOO_MANY_TRANSFERS", "content uploads and downloads"
        )
        self._slots: dict[str, tuple[_Held, ...]] = {
            STREAM_METRICS: (
                _Held(limits.streams, True, "TOO_MANY_STREAMS", "StreamMetrics streams"),
            ),
            WATCH_METRICS: (
                _Held(limits.watches, True, "TOO_MANY_WATCHES", "WatchMetrics watches"),
            ),
            UPLOAD: (transfers,),
            DOWNLOAD: (
                transfers,
                _Held(limits.downloads, False, "TOO_MANY_DOWNLOADS", "downloads"),
            ),
        }

    def applies_to(self, full_method: str) -> bool:
        if full_method.startswith(UNLIMITED):
            return False
        return self.limits.rate is not None or full_method in self._slots

    async def around(self, call: CallInfo, proceed: Callable[[], Awaitable[Any]]) -> Any:
        held = await self._admit(call)
        try:
            return await proceed()
        finally:
            self._release(held)

    async def around_stream(self, call: CallInfo, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        held = await self._admit(call)
        try:
            async for item in stream:
                yield item
        finally:
            self._release(held)

    async def _admit(self, call: CallInfo) -> list[tuple[Slots, str]]:
        """The slots the call now holds; RESOURCE_EXHAUSTED when over a limit."""
        key = caller.current().key
        rate = self.limits.rate
        if rate is not None:
            wait = await rate.take(key, self.limits.now())
            if wait > 0:
                raise self._refuse(
                    "RATE_LIMITED",
                    f"too many requests from this caller: at most {rate.rate:g} a second, "
                    f"{rate.burst} at once; retry in {wait:.3g} s",
                    wait,
                    {"rate": f"{rate.rate:g}", "burst": str(rate.burst)},
                )
        held: list[tuple[Slots, str]] = []
        for slots, per_caller, reason, what in self._slots.get(call.method, ()):
            slot_key = key if per_caller else SERVER
            if not slots.acquire(slot_key):
                self._release(held)
                whose = "this caller has" if per_caller else "the server has"
                raise self._refuse(
                    reason,
                    f"{whose} {slots.limit} {what} open, the most allowed; retry once one ends",
                    SLOT_RETRY_SECONDS,
                    {"limit": str(slots.limit)},
                )
            held.append((slots, slot_key))
        return held

    def _refuse(
        self, reason: str, message: str, wait: float, metadata: dict[str, str]
    ) -> ResourceExhausted:
        self.limits.refused[reason] += 1
        return ResourceExhausted(
            message, reason=reason, retry_delay_seconds=wait, metadata=metadata
        )

    @staticmethod
    def _release(held: list[tuple[Slots, str]]) -> None:
        for slots, key in held:
            slots.release(key)


class LimitsCollector(Collector):
    """The limits' figures for Prometheus: calls holding slots, refusals, download memory."""

    def __init__(self, limits: CallLimits, read_budget: ReadBudget) -> None:
        self.limits = limits
        self.read_budget = read_budget

    def collect(self) -> Iterator[Metric]:
        open_calls = GaugeMetricFamily(
            "maestro_limit_calls_open",
            "Calls holding a slot, by kind (streams, watches, transfers, downloads).",
            labels=("kind",),
        )
        for kind in ("streams", "watches", "transfers", "downloads"):
            slots: Slots = getattr(self.limits, kind)
            open_calls.add_metric((kind,), slots.total)
        yield open_calls
        refused = CounterMetricFamily(
            "maestro_limit_refusals",
            "Calls refused RESOURCE_EXHAUSTED by a limit.",
            labels=("reason",),
        )
        for reason, count in sorted(self.limits.refused.items()):
            refused.add_metric((reason,), count)
        yield refused
        yield GaugeMetricFamily(
            "maestro_blob_reads_open", "Blob reads (downloads) open.", value=self.read_budget.reads
        )
        yield GaugeMetricFamily(
            "maestro_blob_read_ahead_bytes",
            "Bytes blob reads hold read ahead of what they sent.",
            value=self.read_budget.held,
        )
