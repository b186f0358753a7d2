"""Run the Maestro gRPC server.

`start_server()` mounts what the composition root (`app.py`) builds on a
gRPC server, with the interceptors, health, reflection and the Prometheus
endpoint, and binds the port; `serve()` runs it until SIGTERM or SIGINT,
then drains: health turns NOT_SERVING, new calls are refused, in-flight
calls get the grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import grpc
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc
from prometheus_client import CollectorRegistry

from maestro.access.v1 import access_service_pb2, access_service_pb2_grpc
from maestro.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from maestro.people.v1 import (
    collaboration_service_pb2,
    collaboration_service_pb2_grpc,
    people_service_pb2,
    people_service_pb2_grpc,
)
from maestro.prediction.v1 import prediction_service_pb2, prediction_service_pb2_grpc
from maestro.registry.v1 import registry_service_pb2, registry_service_pb2_grpc
from maestro_grpc import logs, tracing
from maestro_grpc.app import App, AppContext, build_access, build_app, build_context, build_limits
from maestro_grpc.clock import Clock
from maestro_grpc.config import ConfigError, Settings
from maestro_grpc.exposition import MetricsEndpoint, process_registry
from maestro_grpc.health import StoreHealth
from maestro_grpc.interceptors.access import AccessInterceptor
from maestro_grpc.interceptors.base import Handler
from maestro_grpc.interceptors.chain import InterceptorChain
from maestro_grpc.interceptors.decode import DecodeInterceptor
from maestro_grpc.interceptors.errors import ErrorInterceptor
from maestro_grpc.interceptors.limits import LimitsCollector, LimitsInterceptor
from maestro_grpc.interceptors.metrics import MetricsInterceptor
from maestro_grpc.interceptors.request_id import RequestIdInterceptor, access_log
from maestro_grpc.reflection import DocumentedReflectionServicer
from maestro_grpc.store.db import Database
from maestro_grpc.telemetry import CertificateCollector, StoreUpCollector

if TYPE_CHECKING:
    from maestro_grpc.web.runner import RunningWeb

log = logging.getLogger("maestro.server")

SERVICE_NAMES = (
    access_service_pb2.DESCRIPTOR.services_by_name["AccessService"].full_name,
    registry_service_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name,
    metrics_service_pb2.DESCRIPTOR.services_by_name["MetricsService"].full_name,
    prediction_service_pb2.DESCRIPTOR.services_by_name["PredictionService"].full_name,
    people_service_pb2.DESCRIPTOR.services_by_name["PeopleService"].full_name,
    collaboration_service_pb2.DESCRIPTOR.services_by_name["CollaborationService"].full_name,
)

MAX_MESSAGE_BYTES = 32 * 1024 * 1024


def grpc_options(settings: Settings) -> list[tuple[str, Any]]:
    age_ms = int(settings.max_connection_age_seconds * 1000)
    return [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        # Keepalive: ping idle connections every 30 s, give up after 10 s,
        # and accept client pings every 10 s (agents keep long streams).
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        # Rebalance long-lived connections across replicas.
        ("grpc.max_connection_age_ms", age_ms),
        ("grpc.max_connection_age_grace_ms", 30_000),
        # A taken port is an error, not a second server sharing it (see _bind).
        ("grpc.so_reuseport", 0),
    ]


@dataclass
class RunningServer:
    """A started server and what it owns."""

    server: grpc.aio.Server
    port: int
    ctx: AppContext
    app: App
    health: StoreHealth
    registry: CollectorRegistry
    metrics_port: int | None = None
    _metrics: MetricsEndpoint | None = None
    # A plaintext Unix socket only this process's web UI talks to (see serve()).
    private_socket: Path | None = None
    # The Prediction service getting ready in the background (MAESTRO_PREDICTION_WARM).
    _warming: asyncio.Task[None] | None = None

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def db(self) -> Database:
        return self.ctx.db

    @property
    def address(self) -> str:
        host = self.settings.host
        return f"{'[' + host + ']' if ':' in host else host}:{self.port}"

    async def stop(self, grace: float | None = None) -> None:
        """Drain: NOT_SERVING first (existing connections' health watches hear it),
        open metric streams stop reading, ack what they hold and end OK, new calls
        are refused, in-flight ones get the grace period."""
        grace = self.settings.grace_seconds if grace is None else grace
        await self.health.drain()
        self.ctx.closing.set()
        if self._warming is not None:
            self._warming.cancel()
        await self.server.stop(grace)
        await self.health.stop()
        if self._metrics is not None:
            self._metrics.close()
        await self.ctx.close()


async def start_server(
    settings: Settings, *, clock: Clock | None = None, private_socket: Path | None = None
) -> RunningServer:
    """Build the server on `settings` and start it (the port 0 picks a free one).

    Anything that stops it from starting (a setting, a taken port) is a
    ConfigError saying what, with everything built so far closed again.
    `clock` replaces the real time (tests move it by hand). `private_socket`
    also listens, in plaintext, on that Unix socket (in a directory only this
    user can enter): the embedded web UI's way in, whatever TLS the public
    port requires. Every call on it passes the same interceptors (tokens,
    limits, audit) as on the public port.
    """
    tls = settings.tls_credentials()
    client_ca = settings.tls_client_ca()
    prometheus = process_registry()
    certificates = {"server": tls[0]} if tls is not None else {}
    if client_ca is not None:
        certificates["client_ca"] = client_ca
    prometheus.register(CertificateCollector(certificates))
    ctx = build_context(settings, prometheus)
    if clock is not None:
        ctx.clock = clock
    try:
        return await _start(ctx, prometheus, tls, client_ca, private_socket)
    except BaseException:
        await ctx.close()
        raise


async def _migrate(db: Database) -> None:
    # Imported only here: Alembic costs a replica ~11 MB it never needs when
    # the migrations ran beforehand (`maestro migrate`).
    from maestro_grpc.store.migrate import upgrade

    await upgrade(db)


async def _start(
    ctx: AppContext,
    prometheus: CollectorRegistry,
    tls: tuple[bytes, bytes] | None,
    client_ca: bytes | None,
    private_socket: Path | None = None,
) -> RunningServer:
    if ctx.settings.should_migrate_on_start:
        await _migrate(ctx.db)
    access = await build_access(ctx)
    ctx.settings.check_secure(stored_tokens=access.tokens.required)
    settings = ctx.settings  # without the static tokens' secrets from here on
    limits = build_limits(ctx)
    prometheus.register(LimitsCollector(limits, ctx.blobs.read_budget))
    chain = InterceptorChain(
        [
            RequestIdInterceptor(
                access_log_enabled=settings.access_log, direct=logs.DirectLog(access_log)
            ),
            MetricsInterceptor(prometheus),
            ErrorInterceptor(prometheus),
            AccessInterceptor(access.tokens, access.authorizer, access.audit_log),
            # After authentication: the limits count per principal.
            LimitsInterceptor(limits),
        ],
        # Innermost: requests are parsed here, after authentication.
        decode=DecodeInterceptor(),
    )
    # Tracing's, when it is on: a call's span covers all of ours (which wrap
    # the handlers themselves: `_mount`).
    interceptors: list[Any] = list(tracing.server_interceptors())
    server = grpc.aio.server(interceptors=interceptors, options=grpc_options(settings))
    app = build_app(ctx, access)
    health = StoreHealth(ctx.db, SERVICE_NAMES, interval=settings.health_interval_seconds)
    prometheus.register(StoreUpCollector(lambda: health.reachable))
    _mount(server, app, health, chain)
    metrics = None
    try:
        port = _bind(server, settings, tls, client_ca, private_socket)
        if settings.metrics_port is not None:
            metrics = _metrics_endpoint(settings, prometheus)
        await health.start()
        await server.start()
    except BaseException:
        if metrics is not None:
            metrics.close()
        await health.stop()
        await server.stop(None)
        raise
    running = RunningServer(
        server, port, ctx, app, health, prometheus, private_socket=private_socket
    )
    if metrics is not None:
        running._metrics = metrics
        running.metrics_port = metrics.port
    if settings.prediction_warm:
        running._warming = asyncio.create_task(_warm_prediction(app.prediction))
    _log_serving(running, auth=access.tokens.required, mutual_tls=client_ca is not None)
    return running


async def _warm_prediction(prediction: Any) -> None:
    """The Prediction service's imports and training worker, ready before the first call."""
    try:
        await prediction.prepare()
    except Exception:  # the first call will try again, and say what is wrong
        log.warning("could not get the Prediction service ready at start", exc_info=True)


def _log_serving(running: RunningServer, *, auth: bool, mutual_tls: bool) -> None:
    log.info(
        "serving",
        extra={
            "address": running.address,
            "store": running.db.dialect,
            "metrics_port": running.metrics_port,
            "auth": auth,
            "mutual_tls": mutual_tls,
        },
    )


class _GenericMount:
    """What a generated `add_*_to_server` hands a server, served as generic handlers only.

    Generated code registers each method with the server as well (core then
    matches its path). grpc.aio 1.85 serves registered methods by keeping a
    pending request per method and running `asyncio.wait` over all of them
    for every call it accepts (grpc/grpc#43461): with our ~75 methods that
    was about a tenth of a GetProject's CPU. Here the registered methods go
    into one table looked up by path instead (the same handlers, so every
    method answers the same), ahead of the generic handlers, which stay for
    code that registers nothing.
    """

    def __init__(self) -> None:
        self.methods: dict[str, Handler] = {}
        self.generic: list[Any] = []

    def add_generic_rpc_handlers(self, generic_handlers: Any) -> None:
        self.generic.extend(generic_handlers)

    def add_registered_method_handlers(self, service: str, handlers: Any) -> None:
        for method, handler in handlers.items():
            self.methods[f"/{service}/{method}"] = handler

    def mount(self, server: grpc.aio.Server, chain: InterceptorChain) -> None:
        """Everything added, each handler inside `chain`."""
        methods = {path: chain.wrap(handler, path) for path, handler in self.methods.items()}
        server.add_generic_rpc_handlers(
            (_MethodTable(methods), *(chain.generic(handlers) for handlers in self.generic))
        )


class _MethodTable(grpc.GenericRpcHandler):  # type: ignore[type-arg]
    """Handlers by their method's path."""

    def __init__(self, methods: dict[str, Handler]) -> None:
        self._methods = methods

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> Any:
        return self._methods.get(handler_call_details.method)


def _mount(server: grpc.aio.Server, app: App, health: StoreHealth, chain: InterceptorChain) -> None:
    """Every service on `server`: ours, health and reflection, inside `chain`."""
    mounting = _GenericMount()
    # The generated code only calls the two methods it has.
    mount = cast(grpc.aio.Server, mounting)
    access_service_pb2_grpc.add_AccessServiceServicer_to_server(app.access.servicer, mount)
    registry_service_pb2_grpc.add_RegistryServiceServicer_to_server(app.registry, mount)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(app.metrics, mount)
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(app.prediction, mount)
    people_service_pb2_grpc.add_PeopleServiceServicer_to_server(app.people, mount)
    collaboration_service_pb2_grpc.add_CollaborationServiceServicer_to_server(
        app.collaboration, mount
    )
    health_pb2_grpc.add_HealthServicer_to_server(health.servicer, mount)
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(
        DocumentedReflectionServicer(
            (
                *SERVICE_NAMES,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            )
        ),
        mount,
    )
    mounting.mount(server, chain)


def _bind(
    server: grpc.aio.Server,
    settings: Settings,
    tls: tuple[bytes, bytes] | None,
    client_ca: bytes | None,
    private_socket: Path | None = None,
) -> int:
    """Listen on the configured address; a taken one is a ConfigError, not a second server.

    gRPC sets SO_REUSEPORT by default, so a second server on a taken port
    would start and silently split the clients between two stores;
    `grpc_options` turns it off, and the bind fails instead.
    """
    host = settings.host
    bind = f"[{host}]:{settings.port}" if ":" in host else f"{host}:{settings.port}"
    try:
        if tls is None:
            port = server.add_insecure_port(bind)
        else:
            credentials = grpc.ssl_server_credentials(
                [(tls[1], tls[0])],
                root_certificates=client_ca,
                require_client_auth=client_ca is not None,
            )
            port = server.add_secure_port(bind, credentials)
    except RuntimeError:
        port = 0
    if port == 0:
        raise ConfigError(
            f"cannot listen on {bind}: the address is taken (is another server running?) or "
            "not this machine's; set MAESTRO_HOST/MAESTRO_PORT"
        )
    if private_socket is not None and not server.add_insecure_port(f"unix:{private_socket}"):
        raise ConfigError(f"cannot listen on the private socket {private_socket}")
    return port


def _metrics_endpoint(settings: Settings, prometheus: CollectorRegistry) -> MetricsEndpoint:
    assert settings.metrics_port is not None
    return MetricsEndpoint.start(
        prometheus, settings.metrics_host, settings.metrics_port, setting="MAESTRO_METRICS_PORT"
    )


async def serve(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then shut down gracefully (traced when OTLP is set).

    The web UI (MAESTRO_WEB_PORT, unless `off`) runs in the same process as a
    client of the server's public RPCs, over a private Unix socket.
    """
    # The UI's runner (Starlette, uvicorn, Jinja, Markdown: ~9 MB) is imported
    # only when the UI is served.
    from maestro_grpc.web.settings import WebConfigError, WebSettings

    try:
        web_settings = WebSettings.from_env()
    except WebConfigError as error:
        raise ConfigError(str(error)) from None
    tracing.configure("maestro-server")
    private_dir = Path(tempfile.mkdtemp(prefix="maestro-"))  # mode 0700
    try:
        running = await start_server(
            settings,
            private_socket=private_dir / "grpc.sock" if web_settings.port is not None else None,
        )
        web: RunningWeb | None = None
        if running.private_socket is not None:
            from maestro_grpc.web.runner import start_web

            try:
                web = await start_web(web_settings, target=f"unix:{running.private_socket}")
            except WebConfigError as error:
                await running.stop(grace=0)
                raise ConfigError(str(error)) from None
        await _run_until_signalled(running, web)
    finally:
        shutil.rmtree(private_dir, ignore_errors=True)


async def _run_until_signalled(running: RunningServer, web: Any) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"maestro: serving gRPC on {running.address}", flush=True)
    if web is not None:
        print(f"maestro: web UI on {web.url}", flush=True)
    await stop.wait()
    log.info("shutting down", extra={"grace_seconds": running.settings.grace_seconds})
    if web is not None:
        with contextlib.suppress(Exception):
            await web.stop()
    await running.stop()
    tracing.shutdown()
    log.info("stopped")
