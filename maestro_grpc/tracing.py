"""OpenTelemetry traces of the server and the agent, exported over OTLP when asked for.

Tracing is on only when the standard OTEL_EXPORTER_OTLP_ENDPOINT (or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, and OTEL_SDK_DISABLED is not:
then `configure()` makes a tracer provider whose spans go, in batches, to
that OTLP/gRPC endpoint (the exporter reads the other OTEL_EXPORTER_OTLP_*
settings: headers, certificate, timeout), named by OTEL_SERVICE_NAME or the
process's own name. Off, nothing is wrapped and nothing is paid.

The server puts `server_interceptors()` outermost, so a call's span covers
every other interceptor; the agent puts `client_interceptors()` on its
channel and runs each command in a span, so its calls and the server's spans
share a trace (W3C traceparent). A call's request id is its trace id when
the caller sends none (`current_trace_id()`), and log lines carry the trace
and span ids.

Tests install a provider of their own (`install()`), with the SDK's
in-memory exporter.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
TRACES_ENDPOINT = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"

_provider: TracerProvider | None = None


def endpoint_of(env: Mapping[str, str]) -> str:
    """Where spans go, or "" when tracing is off."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return ""
    if env.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return ""
    return (env.get(TRACES_ENDPOINT) or env.get(ENDPOINT) or "").strip()


def configure(service: str, env: Mapping[str, str] | None = None) -> TracerProvider | None:
    """Turn tracing on for this process when the environment names an OTLP endpoint."""
    env = os.environ if env is None else env
    endpoint = endpoint_of(env)
    if not endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = env.get("OTEL_SERVICE_NAME", "").strip() or service
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    install(provider)
    return provider


def install(provider: TracerProvider | None) -> None:
    """Use `provider` for the spans made from now on (None: tracing off)."""
    global _provider
    _provider = provider


def provider() -> TracerProvider | None:
    return _provider


def shutdown() -> None:
    """Send what is batched and stop (at the end of the process)."""
    if _provider is not None:
        _provider.shutdown()
        install(None)


def server_interceptors() -> list[Any]:
    """The gRPC server interceptor that makes a span per call (none when off)."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return [aio_server_interceptor(tracer_provider=_provider)]  # type: ignore[no-untyped-call]


def client_interceptors() -> list[Any]:
    """The channel interceptors that make a span per call and propagate it (none when off)."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    return list(aio_client_interceptors(tracer_provider=_provider))  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def span(name: str, **attributes: str) -> Iterator[None]:
    """A span around the block, current inside it (nothing when off)."""
    if _provider is None:
        yield
        return
    tracer = _provider.get_tracer("maestro")
    with tracer.start_as_current_span(name, attributes=attributes):
        yield


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span, as OTLP writes them; None outside one."""
    if _provider is None:
        return None  # off, no span is ever current (asked on every call and log line)
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id)


def current_trace_id() -> str:
    """The current span's trace id (32 hex digits), or "" outside a span."""
    ids = current_ids()
    return "" if ids is None else ids[0]
