"""The server around the services: health, reflection, metrics, request ids, auth, errors."""

from __future__ import annotations

import asyncio
import contextlib
import re
import urllib.request
import uuid
from collections.abc import AsyncIterator

import grpc
import grpc.aio
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.config import ConfigError, Settings
from maestro_grpc.errors import NotFound
from maestro_grpc.interceptors.chain import InterceptorChain
from maestro_grpc.interceptors.errors import ErrorInterceptor
from maestro_grpc.interceptors.metrics import MetricsInterceptor
from maestro_grpc.interceptors.request_id import RequestIdInterceptor
from maestro_grpc.server import SERVICE_NAMES, start_server
from maestro_grpc.wire.context import Context
from tests.conftest import with_settings
from tests.helpers import error_info, expect_error

SERVICES = ("", *SERVICE_NAMES)


async def health_status(channel: grpc.aio.Channel, service: str = "") -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    response = await stub.Check(health_pb2.HealthCheckRequest(service=service))
    return int(response.status)


async def test_health_serving_overall_and_per_service(channel: grpc.aio.Channel) -> None:
    for service in SERVICES:
        assert await health_status(channel, service) == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await health_status(channel, "no.such.Service")
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


async def test_reflection_lists_every_service(channel: grpc.aio.Channel) -> None:
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    stub = reflection_pb2_grpc.ServerReflectionStub(channel)

    async def one() -> AsyncIterator[reflection_pb2.ServerReflectionRequest]:
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    names: list[str] = []
    async for response in stub.ServerReflectionInfo(one()):
        names += [s.name for s in response.list_services_response.service]
    assert set(SERVICE_NAMES) <= set(names)
    assert "grpc.health.v1.Health" in names


async def test_request_id_is_echoed_or_made(
    registry: registry_service_pb2_grpc.RegistryServiceStub,
) -> None:
    call = registry.GetProject(
        rs.GetProjectRequest(project_id=str(uuid.uuid4())),
        metadata=(("x-request-id", "trace-abc-123"),),
    )
    with pytest.raises(grpc.aio.AioRpcError):
        await call
    # Failed calls keep it too (the error details are in the same trailers).
    assert ("x-request-id", "trace-abc-123") in tuple(await call.trailing_metadata())

    made = registry.ListProjects(rs.ListProjectsRequest())
    await made
    ids = [v for k, v in await made.trailing_metadata() if k == "x-request-id"]
    assert len(ids) == 1
    assert isinstance(ids[0], str)
    assert re.fullmatch(r"[0-9a-f]{32}", ids[0])


async def test_prometheus_metrics_are_scraped(settings: Settings) -> None:
    running = await start_server(with_settings(settings, metrics_port=0, metrics_host="127.0.0.1"))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = registry_service_pb2_grpc.RegistryServiceStub(channel)
            await stub.CreateProject(rs.CreateProjectRequest(project=pp.Project(name="m")))
            with contextlib.suppress(grpc.aio.AioRpcError):
                await stub.GetProject(rs.GetProjectRequest(project_id="bad"))
        url = f"http://127.0.0.1:{running.metrics_port}/metrics"
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read())
    finally:
        await running.stop(grace=0)
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}

    def sample(family: str, **labels: str) -> float:
        for s in families[family].samples:
            counted = s.name.endswith(("_total", "_count")) or s.name == family
            if counted and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
        return 0.0

    registry_service = "maestro.registry.v1.RegistryService"
    assert (
        sample(
            "grpc_server_handled",
            grpc_service=registry_service,
            grpc_method="CreateProject",
            grpc_code="OK",
            grpc_type="unary",
        )
        == 1
    )
    assert (
        sample(
            "grpc_server_handled",
            grpc_service=registry_service,
            grpc_method="GetProject",
            grpc_code="INVALID_ARGUMENT",
        )
        == 1
    )
    assert sample("grpc_server_started", grpc_method="CreateProject") == 1
    assert sample("grpc_server_handling_seconds", grpc_method="CreateProject") == 1
    assert sample("grpc_server_msg_received", grpc_method="CreateProject") == 1


async def test_auth_requires_a_valid_bearer_token(settings: Settings) -> None:
    token = "s3cret-token-for-tests"
    running = await start_server(with_settings(settings, auth_tokens={token: "ci"}))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = registry_service_pb2_grpc.RegistryServiceStub(channel)
            missing = await expect_error(
                stub.ListProjects(rs.ListProjectsRequest()), grpc.StatusCode.UNAUTHENTICATED
            )
            assert error_info(missing).reason == "MISSING_TOKEN"
            wrong = await expect_error(
                stub.ListProjects(
                    rs.ListProjectsRequest(), metadata=(("authorization", "Bearer nope"),)
                ),
                grpc.StatusCode.UNAUTHENTICATED,
            )
            assert error_info(wrong).reason == "INVALID_TOKEN"
            malformed = await expect_error(
                stub.ListProjects(rs.ListProjectsRequest(), metadata=(("authorization", token),)),
                grpc.StatusCode.UNAUTHENTICATED,
            )
            assert error_info(malformed).reason == "MALFORMED_TOKEN"
            ok = await stub.ListProjects(
                rs.ListProjectsRequest(), metadata=(("authorization", f"Bearer {token}"),)
            )
            assert ok.total_size == 0
            # Health stays open for load balancers and probes.
            assert await health_status(channel) == health_pb2.HealthCheckResponse.SERVING
    finally:
        await running.stop(grace=0)


async def test_refuses_to_listen_beyond_loopback_without_tokens(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="without authentication"):
        await start_server(with_settings(settings, host="0.0.0.0"))
    running = await start_server(
        with_settings(settings, host="0.0.0.0", auth_tokens={"x" * 20: "ops"})
    )
    await running.stop(grace=0)


class _Proxy:
    """A TCP proxy in front of PostgreSQL that the test can cut and restore."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.links: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.links):
            writer.transport.abort()
        self.links.clear()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.links.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(Exception):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def wait_for_status(channel: grpc.aio.Channel, wanted: int, timeout: float = 15) -> None:
    """Until the overall health is `wanted`, as the health service's Watch reports it."""
    watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
    try:
        async with asyncio.timeout(timeout):
            async for response in watch:
                if response.status == wanted:
                    return
    finally:
        watch.cancel()
    raise AssertionError(f"the health watch ended before the status was {wanted}")


async def test_health_follows_the_store(pg_url: str, settings: Settings) -> None:
    from sqlalchemy.engine import make_url

    target = make_url(pg_url)
    proxy = _Proxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.start()
    proxied = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    running = await start_server(with_settings(settings, database_url=proxied))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            serving = health_pb2.HealthCheckResponse.SERVING
            not_serving = health_pb2.HealthCheckResponse.NOT_SERVING
            await wait_for_status(channel, serving)
            await proxy.cut()
            await wait_for_status(channel, not_serving)
            for service in SERVICES:
                assert await health_status(channel, service) == not_serving
            # The process itself is fine: liveness stays SERVING (no restart).
            assert await health_status(channel, "liveness") == serving
            # A call that needs the store says UNAVAILABLE, never INTERNAL.
            stub = registry_service_pb2_grpc.RegistryServiceStub(channel)
            error = await expect_error(
                stub.ListProjects(rs.ListProjectsRequest()), grpc.StatusCode.UNAVAILABLE
            )
            assert "unreachable" in (error.details() or "")
            await proxy.start()  # same port again
            await wait_for_status(channel, serving)
            listed = await stub.ListProjects(rs.ListProjectsRequest())
            assert listed.total_size >= 0
    finally:
        await running.stop(grace=0)
        with contextlib.suppress(Exception):
            await proxy.cut()


async def test_unexpected_errors_are_internal_without_a_traceback() -> None:
    """The error interceptor on a bare server with a handler that breaks."""

    async def broken(request: bytes, context: Context) -> bytes:
        raise RuntimeError("secret internals /etc/passwd")

    async def missing(request: bytes, context: Context) -> bytes:
        raise NotFound("thing 7 not found", reason="THING_NOT_FOUND", metadata={"id": "7"})

    handlers = grpc.method_handlers_generic_handler(
        "test.Broken",
        {
            "Fail": grpc.unary_unary_rpc_method_handler(broken),
            "Missing": grpc.unary_unary_rpc_method_handler(missing),
        },
    )
    server = grpc.aio.server(interceptors=[RequestIdInterceptor(), ErrorInterceptor()])
    server.add_generic_rpc_handlers((handlers,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            fail = channel.unary_unary("/test.Broken/Fail", None, None)
            error = await expect_error(fail(b""), grpc.StatusCode.INTERNAL)
            assert "secret" not in (error.details() or "")
            assert "Traceback" not in (error.details() or "")
            assert "request id" in (error.details() or "")
            missing_call = channel.unary_unary("/test.Broken/Missing", None, None)
            not_found = await expect_error(missing_call(b""), grpc.StatusCode.NOT_FOUND)
            info = error_info(not_found)
            assert info.reason == "THING_NOT_FOUND"
            assert info.domain == "maestro.dev"
            assert dict(info.metadata) == {"id": "7"}
    finally:
        await server.stop(0)


async def test_a_cancelled_stream_closes_its_handler_at_once() -> None:
    """A client that cancels a server stream while the handler waits at a yield:
    every interceptor's stream and the handler's own `finally` run right away
    (an open blob is released), not when the garbage collector gets to them."""
    prometheus = CollectorRegistry()
    closed = asyncio.Event()

    async def endless(request: bytes, context: Context) -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x" * 1_000_000
        finally:
            closed.set()

    handlers = grpc.method_handlers_generic_handler(
        "test.Streams", {"Endless": grpc.unary_stream_rpc_method_handler(endless)}
    )
    server = grpc.aio.server(
        interceptors=[RequestIdInterceptor(), MetricsInterceptor(prometheus), ErrorInterceptor()]
    )
    server.add_generic_rpc_handlers((handlers,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_stream("/test.Streams/Endless", None, None)(b"")
            assert await call.read()
            call.cancel()
            await asyncio.wait_for(closed.wait(), timeout=5)
    finally:
        await server.stop(0)


async def test_a_handler_mounted_only_as_a_generic_one_still_runs_inside_the_chain() -> None:
    """What registers no method table (a generic handler alone) gets the same
    interceptors: its errors become statuses and it carries a request id."""

    async def missing(request: bytes, context: Context) -> bytes:
        raise NotFound("thing 7 not found", reason="THING_NOT_FOUND")

    handlers = grpc.method_handlers_generic_handler(
        "test.Generic", {"Missing": grpc.unary_unary_rpc_method_handler(missing)}
    )
    chain = InterceptorChain([RequestIdInterceptor(), ErrorInterceptor()])
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((chain.generic(handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary("/test.Generic/Missing", None, None)(b"")
            error = await expect_error(call, grpc.StatusCode.NOT_FOUND)
            assert error_info(error).reason == "THING_NOT_FOUND"
            ids = [v for k, v in await call.trailing_metadata() if k == "x-request-id"]
            assert len(ids) == 1
            assert re.fullmatch(r"[0-9a-f]{32}", str(ids[0]))
            unknown = channel.unary_unary("/test.Generic/Nothing", None, None)(b"")
            await expect_error(unknown, grpc.StatusCode.UNIMPLEMENTED)
    finally:
        await server.stop(0)
