"""Run the web UI inside an event loop: beside the gRPC server (`maestro serve`) or alone.

The socket is bound here, so a taken port is a plain error rather than
uvicorn's exit, and uvicorn's own signal handling stays off: the process
that embeds the UI decides when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import grpc.aio
import uvicorn

from maestro.access.v1 import access_service_pb2 as access_pb
from maestro_grpc.web.app import build_app
from maestro_grpc.web.client import Backend, open_channel
from maestro_grpc.web.settings import WebConfigError, WebSettings, is_loopback

log = logging.getLogger("maestro.web")


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class RunningWeb:
    """A started UI: its port, and how to stop it."""

    server: uvicorn.Server
    task: asyncio.Task[None]
    backend: Backend
    host: str
    port: int
    scheme: str

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.backend.close()


def _bind(settings: WebSettings) -> socket.socket:
    assert settings.port is not None
    host = settings.host
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        infos = socket.getaddrinfo(host, settings.port, family, socket.SOCK_STREAM)
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.bind(infos[0][4])
    except OSError as error:
        raise WebConfigError(
            f"cannot serve the web UI on {host}:{settings.port}: {error.strerror or error}; "
            "set MAESTRO_WEB_HOST/MAESTRO_WEB_PORT (or MAESTRO_WEB_PORT=off)"
        ) from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def check_secure(settings: WebSettings, backend: Backend) -> None:
    """Beyond loopback, refuse to front a server that answers anyone (secure by default).

    The server says whether it requires tokens (WhoAmI.auth_required); a UI
    that others can reach must not hand them a server that does not.
    """
    if is_loopback(settings.host):
        return
    try:
        answer = await backend.access.WhoAmI(access_pb.WhoAmIRequest(), timeout=10)
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.UNAUTHENTICATED:
            return  # it requires tokens: every visitor must sign in
        raise WebConfigError(
            f"refusing to serve the web UI on {settings.host!r}: cannot ask the server at "
            f"{settings.server_address} whether it requires tokens ({error.code().name})"
        ) from None
    if not answer.auth_required:
        raise WebConfigError(
            f"refusing to serve the web UI on {settings.host!r}: the server requires no "
            "token, so anyone reaching the UI could act on it; give the server tokens "
            "(MAESTRO_AUTH_TOKENS or `maestro token bootstrap`) or listen on localhost"
        )


async def start_web(settings: WebSettings, *, target: str | None = None) -> RunningWeb:
    """Start the UI as a client of the gRPC server at `target` (default: the settings')."""
    settings.check()
    channel = open_channel(target or settings.server_address, settings)
    backend = Backend.on(channel, timeout=settings.call_timeout_seconds)
    try:
        await check_secure(settings, backend)
        sock = _bind(settings)
    except BaseException:
        await backend.close()
        raise
    app = build_app(settings, backend)
    # uvicorn's start and stop lines say nothing ours do not; its errors stay.
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    config = uvicorn.Config(
        app,
        lifespan="off",
        access_log=False,
        log_config=None,
        server_header=False,
        # Open event streams (live charts) must not hold a shutdown up.
        timeout_graceful_shutdown=2,
        ssl_certfile=str(settings.tls_cert_file) if settings.tls_cert_file else None,
        ssl_keyfile=str(settings.tls_key_file) if settings.tls_key_file else None,
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await backend.close()
            task.result()
            raise WebConfigError("the web UI stopped while starting")
        await asyncio.sleep(0.01)
    port = sock.getsockname()[1]
    running = RunningWeb(
        server=server,
        task=task,
        backend=backend,
        host=settings.host,
        port=port,
        scheme="https" if settings.tls else "http",
    )
    log.info(
        "web UI serving", extra={"url": running.url, "server": target or settings.server_address}
    )
    return running
