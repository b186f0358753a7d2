"""Prometheus metrics of every RPC, named as the grpc-ecosystem exporters name them.

grpc_server_started_total, grpc_server_handled_total (with grpc_code),
grpc_server_handling_seconds, grpc_server_msg_received_total and
grpc_server_msg_sent_total, labelled by grpc_type, grpc_service and
grpc_method.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from maestro_grpc.interceptors.base import CallInfo, WrappingInterceptor
from maestro_grpc.interceptors.request_id import status_code_of

LABELS = ("grpc_type", "grpc_service", "grpc_method")
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


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
            "Stream messages received by the server.",
            LABELS,
            registry=registry,
        )
        self.sent = Counter(
            "grpc_server_msg_sent_total",
            "Stream messages sent by the server.",
            LABELS,
            registry=registry,
        )

    @staticmethod
    def _labels(call: CallInfo) -> tuple[str, str, str]:
        return call.type, call.service, call.method_name

    def _finish(self, call: CallInfo, started: float, error: BaseException | None) -> None:
        labels = self._labels(call)
        self.seconds.labels(*labels).observe(time.perf_counter() - started)
        self.handled.labels(*labels, status_code_of(call.context, error).name).inc()

    def on_request(self, call: CallInfo) -> None:
        self.received.labels(*self._labels(call)).inc()

    async def around(self, call: CallInfo, proceed: Callable[[], Awaitable[Any]]) -> Any:
        started = time.perf_counter()
        self.started.labels(*self._labels(call)).inc()
        if call.type == "unary":
            self.received.labels(*self._labels(call)).inc()
        error: BaseException | None = None
        try:
            result = await proceed()
            self.sent.labels(*self._labels(call)).inc()
            return result
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._finish(call, started, error)

    async def around_stream(self, call: CallInfo, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        started = time.perf_counter()
        labels = self._labels(call)
        self.started.labels(*labels).inc()
        if call.type == "server_stream":
            self.received.labels(*labels).inc()
        sent = self.sent.labels(*labels)
        error: BaseException | None = None
        try:
            async for item in stream:
                sent.inc()
                yield item
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._finish(call, started, error)
