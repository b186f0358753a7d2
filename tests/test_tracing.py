"""OpenTelemetry traces: off without an OTLP endpoint, spans of server and agent in one trace.

With the SDK's in-memory exporter installed, a real server and the real
agent (its runner, its channel) are traced: the agent's run is the root,
its StreamMetrics call a child, the server's span of that call a child of
the agent's, and the server's request id (trailer and access log) is the
trace id. With OTEL_EXPORTER_OTLP_ENDPOINT set, spans reach an OTLP
collector over gRPC (a real one, in this process: the collector service of
opentelemetry-proto).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_trace_id

from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc import tracing
from maestro_grpc.agent.runner import Collected, Emitter, run_collector
from maestro_grpc.agent.settings import AgentSettings
from maestro_grpc.config import Settings
from maestro_grpc.server import RunningServer, start_server
from tests.conftest import server_settings
from tests.metrics.helpers import point

CREATE_PROJECT = "/maestro.registry.v1.RegistryService/CreateProject"
STREAM_METRICS = "/maestro.metrics.v1.MetricsService/StreamMetrics"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    try:
        yield exporter
    finally:
        tracing.install(None)
        provider.shutdown()


@pytest.fixture
async def traced_server(
    spans: InMemorySpanExporter, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[RunningServer]:
    import shutil

    shutil.copyfile(sqlite_template, tmp_path / "maestro.db")
    running = await start_server(
        server_settings(f"sqlite+aiosqlite:///{tmp_path}/maestro.db", tmp_path)
    )
    try:
        yield running
    finally:
        await running.stop(grace=0.2)


def _named(spans: InMemorySpanExporter, name: str, kind: SpanKind) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.name == name and s.kind == kind]


# ---- off unless asked for -----------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "endpoint"),
    [
        ({}, ""),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, "http://collector:4317"),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4317",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4317",
            },
            "http://b:4317",
        ),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4317", "OTEL_SDK_DISABLED": "true"}, ""),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4317", "OTEL_TRACES_EXPORTER": "none"}, ""),
    ],
)
def test_tracing_is_on_only_with_an_otlp_endpoint(env: dict[str, str], endpoint: str) -> None:
    assert tracing.endpoint_of(env) == endpoint


def test_off_nothing_is_wrapped() -> None:
    assert tracing.configure("maestro-server", {}) is None
    assert tracing.provider() is None
    assert tracing.server_interceptors() == []
    assert tracing.client_interceptors() == []
    with tracing.span("nothing"):
        assert tracing.current_ids() is None


# ---- one trace across the agent and the server --------------------------------------


async def test_a_call_is_traced_and_its_request_id_is_the_trace_id(
    traced_server: RunningServer, spans: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="maestro.access")
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{traced_server.port}", interceptors=tracing.client_interceptors()
    ) as channel:
        stub = registry_service_pb2_grpc.RegistryServiceStub(channel)
        with tracing.span("caller"):
            call = stub.CreateProject(rs.CreateProjectRequest(project=pp.Project(name="traced")))
            await call
            trailer = dict(await call.trailing_metadata() or ())
            (trace_id, _span) = tracing.current_ids() or ("", "")
        # A caller's own request id is kept (and still traced).
        own = stub.GetProject(
            rs.GetProjectRequest(project_id="not-a-uuid"), metadata=(("x-request-id", "mine-1"),)
        )
        with pytest.raises(grpc.aio.AioRpcError):
            await own
        assert dict(await own.trailing_metadata() or ())["x-request-id"] == "mine-1"

    (server,) = _named(spans, CREATE_PROJECT, SpanKind.SERVER)
    (client,) = _named(spans, CREATE_PROJECT, SpanKind.CLIENT)
    (caller,) = [s for s in spans.get_finished_spans() if s.name == "caller"]
    assert format_trace_id(server.context.trace_id) == trace_id
    assert server.parent is not None
    assert server.parent.span_id == client.context.span_id
    assert client.parent is not None
    assert client.parent.span_id == caller.context.span_id
    assert trailer["x-request-id"] == trace_id
    logged = [r for r in caplog.records if getattr(r, "grpc_method", "") == CREATE_PROJECT]
    assert [r.__dict__["request_id"] for r in logged] == [trace_id]


async def test_the_agents_run_its_stream_and_the_servers_spans_share_one_trace(
    traced_server: RunningServer, spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{traced_server.port}") as channel:
        stub = registry_service_pb2_grpc.RegistryServiceStub(channel)
        reply = await stub.CreateProject(rs.CreateProjectRequest(project=pp.Project(name="a")))
    project = reply.project.id

    def collect(emitter: Emitter) -> Collected:
        emitter.point(point(project, "ci.duration_seconds", 2.5, "2026-03-02T09:00:00Z"))
        return Collected(summary={"points": 1})

    settings = AgentSettings(
        address=f"127.0.0.1:{traced_server.port}", state_dir=tmp_path / "agent", deadline_seconds=20
    )
    outcome = await run_collector("stream", collect, settings)
    assert outcome.exit_code == 0, outcome.error

    (run,) = [s for s in spans.get_finished_spans() if s.name == "maestro agent stream"]
    (client,) = _named(spans, STREAM_METRICS, SpanKind.CLIENT)
    (server,) = _named(spans, STREAM_METRICS, SpanKind.SERVER)
    assert run.parent is None
    assert {client.context.trace_id, server.context.trace_id} == {run.context.trace_id}
    assert client.parent is not None
    assert client.parent.span_id == run.context.span_id
    assert server.parent is not None
    assert server.parent.span_id == client.context.span_id


# ---- OTLP, to a real collector --------------------------------------------------------


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP/gRPC trace collector that keeps what it is sent."""

    def __init__(self) -> None:
        self.requests: list[trace_service_pb2.ExportTraceServiceRequest] = []
        self.received = threading.Event()

    def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        self.requests.append(request)
        self.received.set()
        return trace_service_pb2.ExportTraceServiceResponse()


@pytest.fixture
def collector() -> Iterator[tuple[Collector, int]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    found = Collector()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(found, server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield found, port
    finally:
        server.stop(None)


async def test_spans_are_exported_over_otlp_when_an_endpoint_is_set(
    collector: tuple[Collector, int], sqlite_template: Path, tmp_path: Path
) -> None:
    import shutil

    found, port = collector
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}", "OTEL_SERVICE_NAME": "m1"}
    provider = tracing.configure("maestro-server", env)
    assert provider is not None
    try:
        shutil.copyfile(sqlite_template, tmp_path / "maestro.db")
        settings: Settings = server_settings(f"sqlite+aiosqlite:///{tmp_path}/maestro.db", tmp_path)
        running = await start_server(settings)
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
                stub = registry_service_pb2_grpc.RegistryServiceStub(channel)
                await stub.CreateProject(rs.CreateProjectRequest(project=pp.Project(name="o")))
        finally:
            await running.stop(grace=0.2)
        assert provider.force_flush(10_000)
    finally:
        tracing.shutdown()
    assert found.received.is_set()
    exported = [
        (resource, span)
        for request in found.requests
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    names = {span.name for _, span in exported}
    assert CREATE_PROJECT in names
    services = {
        a.value.string_value
        for resource, _ in exported
        for a in resource.resource.attributes
        if a.key == "service.name"
    }
    assert services == {"m1"}
