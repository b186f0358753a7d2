"""Prometheus metrics of every RPC, named as the grpc-ecosystem exporters name them.

grpc_server_started_total, grpc_server_handled_total (with grpc_code),
grpc_server_handling_seconds, grpc_server_msg_received_total and
grpc_server_msg_sent_total, labelled by grpc_type, grpc_service and
grpc_method; and maestro_grpc_calls_open, the calls running now, by the
same labels (started minus handled would count idle long-lived streams
beside busy unary calls: dashboards chart the two apart). The labelled
children of each method are looked up once and kept, so a call costs a few
increments, not label lookups.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from maestro_grpc.interceptors.base import CallInfo, WrappingInterceptor
from maestro_grpc.interceptors.request_id import status_code_of

LABELS = ("grpc_type", "grpc_service", "grpc_method")
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


@dataclass
class _MethodMetrics:
    started: Any
    seconds: Any
    received: Any
    sent: Any
    open: Any
    handled: dict[grpc.StatusCode, Any] = field(default_factory=dict)


class MetricsInterceptor(WrappingInterceptor):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.started = Counter(
            "grpc_server_started_total", "RPCs started on the server.", LABELS, registry=registry
        )
        self.handled = Counter(
            "grpc_server_handled_total",
            "RPCs completed on the server, regardless of success or failure.",
            (*LABELS, "grpc_code"),
            registry=registry,
        )
        self.seconds = Histogram(
            "grpc_server_handling_seconds",
            "Time to handle an RPC, until the last response is sent.",
            LABELS,
            buckets=BUCKETS,
            registry=registry,
        )
        self.received = Counter(
            "grpc_server_msg_received_total",
            "Messages received by the server.",
            LABELS,
            registry=registry,
        )
        self.sent = Counter(
            "grpc_server_msg_sent_total",
            "Messages sent by the server.",
            LABELS,
            registry=registry,
        )
        self.open = Gauge(
            "maestro_grpc_calls_open",
            "Calls running now: unary calls in flight, and open streams (which may idle).",
            LABELS,
            registry=registry,
        )
        self._methods: dict[str, _MethodMetrics] = {}

    def _of(self, call: CallInfo) -> _MethodMetrics:
        found = self._methods.get(call.method)
        if found is None:
            labels = (call.type, call.service, call.method_name)
            found = _MethodMetrics(
                started=self.started.labels(*labels),
                seconds=self.seconds.labels(*labels),
                received=self.received.labels(*labels),
                sent=self.sent.labels(*labels),
                open=self.open.labels(*labels),
            )
            self._methods[call.method] = found
        return found

    def _finish(
        self, call: CallInfo, metrics: _MethodMetrics, started: float, error: BaseException | None
    ) -> None:
        metrics.seconds.observe(time.perf_counter() - started)
        metrics.open.dec()
        code = status_code_of(call.context, error)
        child = metrics.handled.get(code)
        if child is None:
            child = self.handled.labels(call.type, call.service, call.method_name, code.name)
            metrics.handled[code] = child
        child.inc()

    def on_request(self, call: CallInfo) -> None:
        self._of(call).received.inc()

    async def around(self, call: CallInfo, proceed: Callable[[], Awaitable[Any]]) -> Any:
        started = time.perf_counter()
        metrics = self._of(call)
        metrics.started.inc()
        metrics.open.inc()
        if call.type == "unary":
            metrics.received.inc()
        error: BaseException | None = None
        try:
            result = await proceed()
            metrics.sent.inc()
            return result
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._finish(call, metrics, started, error)

    async def around_stream(self, call: CallInfo, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        started = time.perf_counter()
        metrics = self._of(call)
        metrics.started.inc()
        metrics.open.inc()
        if call.type == "server_stream":
            metrics.received.inc()
        error: BaseException | None = None
        try:
            async for item in stream:
                metrics.sent.inc()
                yield item
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._finish(call, metrics, started, error)
