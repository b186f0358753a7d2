"""Request ids and the structured access log.

Every call gets a request id: the caller's `x-request-id` metadata when it
is sane, else the call's trace id when it is traced (`tracing.py`), else a
new one (the same 32 hex digits). It is sent back in the trailing metadata (no extra
frame on the wire; the error interceptor keeps it on failures too), put in
every log line of the call, and quoted in INTERNAL errors. When the call ends, one
JSON access-log line records method, code, duration, peer and principal.
"""

from __future__ import annotations

import contextvars
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import grpc

from maestro_grpc import tracing
from maestro_grpc.interceptors.base import CallInfo, WrappingInterceptor
from maestro_grpc.wire.context import Context

REQUEST_ID_HEADER = "x-request-id"
_SANE = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
principal_var: contextvars.ContextVar[str] = contextvars.ContextVar("principal", default="")

access_log = logging.getLogger("maestro.access")


def current_request_id() -> str:
    return request_id_var.get()


def status_code_of(context: Context, error: BaseException | None) -> grpc.StatusCode:
    """The status a finished call ended with."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    if isinstance(code, int):
        for candidate in grpc.StatusCode:
            if candidate.value[0] == code:
                return candidate
    if error is None:
        return grpc.StatusCode.OK
    return grpc.StatusCode.CANCELLED if _is_cancel(error) else grpc.StatusCode.UNKNOWN


def _is_cancel(error: BaseException) -> bool:
    import asyncio

    return isinstance(error, asyncio.CancelledError)


class DirectWriter(Protocol):
    def info(self, message: str, fields: dict[str, Any]) -> bool: ...


def new_request_id() -> str:
    """32 hex digits. Unique, not secret (they are quoted to callers and logged), so from
    the process's Mersenne Twister (seeded from the OS, reseeded in a forked child), not
    uuid4's read of os.urandom on every call."""
    return f"{random.getrandbits(128):032x}"


class RequestIdInterceptor(WrappingInterceptor):
    """`direct`, when given, writes the access log's lines when it may (`logs.DirectLog`);
    the others go through `logging`."""

    def __init__(
        self, *, access_log_enabled: bool = True, direct: DirectWriter | None = None
    ) -> None:
        self.access_log_enabled = access_log_enabled
        self.direct = direct

    def _start(self, call: CallInfo) -> str:
        incoming = call.header(REQUEST_ID_HEADER)
        sane = _SANE.match(incoming)
        rid = incoming if sane else (tracing.current_trace_id() or new_request_id())
        request_id_var.set(rid)
        call.context.set_trailing_metadata(((REQUEST_ID_HEADER, rid),))
        return rid

    def _log(
        self, call: CallInfo, rid: str, peer: str, started: float, error: BaseException | None
    ) -> None:
        if not self.access_log_enabled:
            return
        code = status_code_of(call.context, error).name
        fields = {
            "request_id": rid,
            "grpc_method": call.method,
            "grpc_type": call.type,
            "grpc_code": code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "peer": peer,
            "principal": principal_var.get(),
        }
        if self.direct is None or not self.direct.info(f"{call.method} {code}", fields):
            access_log.info("%s %s", call.method, code, extra=fields)

    async def around(self, call: CallInfo, proceed: Callable[[], Awaitable[Any]]) -> Any:
        started = time.perf_counter()
        rid = self._start(call)
        # Read now: grpc.aio's peer() on a call the client already cancelled
        # can crash the process.
        peer = call.peer() if self.access_log_enabled else ""
        error: BaseException | None = None
        try:
            return await proceed()
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._log(call, rid, peer, started, error)

    async def around_stream(self, call: CallInfo, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        started = time.perf_counter()
        rid = self._start(call)
        peer = call.peer() if self.access_log_enabled else ""
        error: BaseException | None = None
        try:
            async for item in stream:
                yield item
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._log(call, rid, peer, started, error)
