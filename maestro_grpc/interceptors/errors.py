"""The one place where domain errors become gRPC statuses.

A `MaestroError` becomes its status code with a `google.rpc.ErrorInfo`
(stable reason, domain, metadata), plus `BadRequest` field violations for
INVALID_ARGUMENT and `RetryInfo` where a retry delay is known. A lost store
is UNAVAILABLE. Anything else is INTERNAL with a generic message and the
request id; the traceback goes to the log, never on the wire. Each error
is counted by its reason (`maestro_grpc_errors_total`), so that alerts can
tell a dropped watcher from a refused batch.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, ClassVar, NoReturn

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from prometheus_client import CollectorRegistry, Counter

from maestro_grpc.errors import (
    ERROR_DOMAIN,
    FieldViolation,
    InvalidArgument,
    MaestroError,
    ResourceExhausted,
    Unavailable,
)
from maestro_grpc.interceptors.base import CallInfo, WrappingInterceptor, drain
from maestro_grpc.interceptors.request_id import REQUEST_ID_HEADER, current_request_id
from maestro_grpc.store.db import is_unavailable
from maestro_grpc.wire.context import Context

log = logging.getLogger("maestro.errors")


# A BadRequest lists at most this many violations, within this many bytes,
# then says how many more there were: a default client refuses trailers over
# 8 KiB (as RESOURCE_EXHAUSTED, hiding the INVALID_ARGUMENT), and a caller
# who made 10,000 mistakes learns as much from the first fifty.
MAX_VIOLATIONS = 50
MAX_VIOLATION_BYTES = 4096
MAX_FIELD = 120
MAX_DESCRIPTION = 200
MAX_MESSAGE = 500


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def bad_request(violations: Sequence[FieldViolation]) -> error_details_pb2.BadRequest:
    """The BadRequest detail of `violations`, bounded (see MAX_VIOLATIONS)."""
    listed = error_details_pb2.BadRequest()
    used = 0
    for v in violations:
        field, description = _cut(v.field, MAX_FIELD), _cut(v.description, MAX_DESCRIPTION)
        if len(listed.field_violations) >= MAX_VIOLATIONS or used > MAX_VIOLATION_BYTES:
            break
        listed.field_violations.add(field=field, description=description)
        used += len(field) + len(description)
    left = len(violations) - len(listed.field_violations)
    if left:
        listed.field_violations.add(field="", description=f"and {left} more violations, not listed")
    return listed


def status_for(error: MaestroError) -> status_pb2.Status:
    """The google.rpc.Status (with details) that represents `error`."""
    details: list[Any] = []
    info = error_details_pb2.ErrorInfo(
        reason=error.reason, domain=ERROR_DOMAIN, metadata=dict(error.metadata)
    )
    details.append(info)
    if isinstance(error, InvalidArgument) and error.violations:
        details.append(bad_request(error.violations))
    delay = getattr(error, "retry_delay_seconds", 0.0)
    if isinstance(error, ResourceExhausted | Unavailable) and delay:
        retry = error_details_pb2.RetryInfo()
        retry.retry_delay.CopyFrom(
            duration_pb2.Duration(seconds=int(delay), nanos=int(delay % 1 * 1e9))
        )
        details.append(retry)
    packed = []
    for detail in details:
        item = any_pb2.Any()
        item.Pack(detail)
        packed.append(item)
    return status_pb2.Status(
        code=grpc.StatusCode[error.code].value[0],
        message=_cut(error.message, MAX_MESSAGE),
        details=packed,
    )


async def abort_with(context: Context, error: MaestroError) -> NoReturn:
    status = rpc_status.to_status(status_for(error))
    # Aborting replaces the trailing metadata: keep the request id in it.
    trailing = (*status.trailing_metadata, (REQUEST_ID_HEADER, current_request_id()))
    await context.abort(status.code, status.details, trailing)
    raise AssertionError("unreachable")  # pragma: no cover


class ErrorInterceptor(WrappingInterceptor):
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.errors = (
            None
            if registry is None
            else Counter(
                "maestro_grpc_errors_total",
                "Calls that ended in an error, by its status code and ErrorInfo reason.",
                ("grpc_service", "grpc_method", "grpc_code", "reason"),
                registry=registry,
            )
        )

    def _count(self, call: CallInfo, error: MaestroError) -> None:
        if self.errors is not None:
            self.errors.labels(call.service, call.method_name, error.code, error.reason).inc()

    async def around(self, call: CallInfo, proceed: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await proceed()
        except Exception as error:
            await self._handle(call, error)

    async def around_stream(self, call: CallInfo, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        try:
            async for item in stream:
                yield item
        except Exception as error:
            await self._handle(call, error)

    async def _handle(self, call: CallInfo, error: Exception) -> NoReturn:
        await drain(call)
        if isinstance(error, grpc.aio.AbortError):
            raise error
        if isinstance(error, MaestroError):
            await self._abort(call, error)
        if is_unavailable(error):
            log.warning("store unavailable during %s: %s", call.method, error)
            await self._abort(
                call,
                Unavailable("the store is unreachable; retry later", retry_delay_seconds=1.0),
            )
        log.exception("unexpected error in %s (request %s)", call.method, current_request_id())
        await self._abort(
            call,
            _Internal(
                f"internal error; quote request id {current_request_id()} when reporting it",
                reason="INTERNAL",
            ),
        )

    async def _abort(self, call: CallInfo, error: MaestroError) -> NoReturn:
        self._count(call, error)
        await abort_with(call.context, error)


class _Internal(MaestroError):
    code: ClassVar[str] = "INTERNAL"


assert grpc.StatusCode.INTERNAL.value[0] == code_pb2.INTERNAL
