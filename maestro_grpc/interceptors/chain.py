"""The server's interceptors as one: each method's handler wrapped by all of them, once.

Given to grpc.aio one by one, every interceptor's `intercept_service` ran on
every call (a coroutine each, chained through grpc's own), and every wrapper
layer of a call made a CallInfo of its own and read the call's metadata and
peer again. The chain wraps a method's handler in every interceptor that
applies to it once, the first time the method is called, in the same order,
with the same wrappers (`WrappingInterceptor.wrap`) for streams. A unary
call's interceptors run their `around`s one inside the other on one
CallInfo, which reads the metadata and the peer once for all of them.

The order is the order given: the first interceptor is the outermost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

import grpc
import grpc.aio

from maestro_grpc.interceptors.base import (
    Behavior,
    CallInfo,
    Handler,
    WrappedHandlers,
    WrappingInterceptor,
    rpc_type,
    run,
    split_method,
)
from maestro_grpc.interceptors.decode import DecodeInterceptor
from maestro_grpc.wire.context import Context

Around = Callable[[CallInfo, Callable[[], Awaitable[Any]]], Awaitable[Any]]


class InterceptorChain(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """`interceptors`, outermost first, and then `decode` (innermost: requests are parsed
    there, after authentication), as one grpc.aio interceptor."""

    def __init__(
        self, interceptors: Sequence[WrappingInterceptor], decode: DecodeInterceptor | None = None
    ) -> None:
        self._interceptors = tuple(interceptors)
        self._decode = decode
        self._wrapped = WrappedHandlers()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        return self._wrapped.of(handler_call_details.method, handler, self.wrap)

    def wrap(self, handler: Handler, full_method: str) -> Handler:
        if self._decode is not None:
            handler = self._decode.wrap(handler)
        layers = [i for i in self._interceptors if i.applies_to(full_method)]
        if handler.request_streaming or handler.response_streaming:
            for layer in reversed(layers):
                handler = layer.wrap(handler, full_method)
            return handler
        return _unary(handler, full_method, tuple(layer.around for layer in layers))


def _unary(handler: Handler, full_method: str, arounds: tuple[Around, ...]) -> Handler:
    """A unary handler run inside `arounds`, the first outermost, on one CallInfo."""
    inner = cast(Behavior, handler.unary_unary)
    kind = rpc_type(handler)
    names = split_method(full_method)
    depth = len(arounds)

    async def unary(request: Any, context: Context) -> Any:
        call = CallInfo(full_method, kind, context, request, names)

        def step(level: int) -> Awaitable[Any]:
            if level == depth:
                return run(inner, request, context)
            return arounds[level](call, lambda: step(level + 1))

        return await step(0)

    return grpc.unary_unary_rpc_method_handler(
        unary,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )
