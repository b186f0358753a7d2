"""Small helpers for tests that call the server: rich error details, timestamps, waits."""

from __future__ import annotations

import asyncio
import inspect
import random
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, overload

import grpc
import grpc.aio
import pytest
from google.protobuf import timestamp_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

T = TypeVar("T")
POLL_SECONDS = 0.02


async def expect_error(call: Awaitable[Any], code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    """Await a call that must fail with `code`; return the error."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == code, (caught.value.code(), caught.value.details())
    return caught.value


def details_of(error: grpc.aio.AioRpcError) -> list[Any]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, "the error carries no google.rpc.Status details"
    unpacked: list[Any] = []
    for item in status.details:
        for kind in (
            error_details_pb2.ErrorInfo,
            error_details_pb2.BadRequest,
            error_details_pb2.RetryInfo,
        ):
            if item.Is(kind.DESCRIPTOR):
                message = kind()
                item.Unpack(message)
                unpacked.append(message)
    return unpacked


def violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    """field -> description of the error's BadRequest."""
    for detail in details_of(error):
        if isinstance(detail, error_details_pb2.BadRequest):
            return {v.field: v.description for v in detail.field_violations}
    raise AssertionError(f"no BadRequest in {error.details()!r}")


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    for detail in details_of(error):
        if isinstance(detail, error_details_pb2.ErrorInfo):
            return detail
    raise AssertionError(f"no ErrorInfo in {error.details()!r}")


async def expect_invalid(call: Awaitable[Any], field: str) -> dict[str, str]:
    """The call must be INVALID_ARGUMENT with a violation naming `field`."""
    error = await expect_error(call, grpc.StatusCode.INVALID_ARGUMENT)
    found = violations(error)
    assert field in found, (field, found)
    return found


def ts(value: datetime | str) -> timestamp_pb2.Timestamp:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(value)
    return out


@overload
async def eventually(
    check: Callable[[], Awaitable[T]], what: str, *, within: float = ..., every: float = ...
) -> T: ...


@overload
async def eventually(
    check: Callable[[], T], what: str, *, within: float = ..., every: float = ...
) -> T: ...


async def eventually(
    check: Callable[[], Any],
    what: str,
    *,
    within: float = 10.0,
    every: float = POLL_SECONDS,
) -> Any:
    """Poll `check` (sync or async) until it returns something truthy; return that.

    For what a test can only observe from outside (another process, a
    replica, a server's own background task). Where an event or a fake
    clock can show the moment, use that instead.
    """
    deadline = time.monotonic() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(every)


def eventually_sync(
    check: Callable[[], T], what: str, *, within: float = 10.0, every: float = POLL_SECONDS
) -> T:
    """`eventually` for tests that run no event loop (subprocesses, sync clients)."""
    deadline = time.monotonic() + within
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        time.sleep(every)
    return result


def wait_until_serving(
    address: str, process: subprocess.Popen[Any] | None = None, *, within: float = 30.0
) -> None:
    """Until the server at `address`, in another process, reports SERVING; fails at
    once if that `process` exits first."""
    with grpc.insecure_channel(address) as channel:
        health = health_pb2_grpc.HealthStub(channel)

        def serving() -> bool:
            if process is not None and process.poll() is not None:
                raise AssertionError(f"the server at {address} exited ({process.returncode})")
            try:
                reply = health.Check(health_pb2.HealthCheckRequest(), timeout=1)
            except grpc.RpcError:
                return False  # not listening yet
            return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

        eventually_sync(serving, f"the server at {address} is SERVING", within=within, every=0.1)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (for a process a test starts).

    Drawn below the kernel's ephemeral range: a port from `bind(0)` is one the
    kernel may hand the next outgoing connection or port-0 server (of any
    test worker) before the process the test starts binds it, and a
    clean-clone run once lost a web UI's port that way ("Address already in
    use"). Ports below the range are only ever taken by someone asking for
    them by number; each candidate is bound once here to see that it is free.
    """
    low = _lowest_ephemeral_port()
    for _ in range(200):
        port = _PORTS.randrange(max(1024, low - 12_000), low)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:  # a crowded machine: what the kernel gives
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Its own generator, from the OS: a plugin reseeding `random` per test must not give
# every worker the same ports.
_PORTS = random.SystemRandom()


def _lowest_ephemeral_port() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default
