"""The server's interceptors as one: each method's handler wrapped by all of them, once.

Given to grpc.aio one by one, every interceptor's `intercept_service` ran on
every call (a coroutine each, chained through grpc's own), and every wrapper
layer of a call made a CallInfo of its own and read the call's metadata and
peer again. The chain wraps a method's handler in every interceptor that
applies to it once, in the same order, with the same wrappers
(`WrappingInterceptor.wrap`) for streams. A unary call's interceptors run
their `around`s one inside the other on one CallInfo, which reads the
metadata and the peer once for all of them.

It is not a grpc.aio interceptor either: the server wraps the handlers it
mounts (`wrap` for its table of methods, `generic` for generic handlers),
so a call pays for no interceptor pipeline at all. (grpc.aio runs its
interceptors before it looks a method up, each a coroutine awaiting the
next.) Tracing's interceptors, when tracing is on, still run outside it.

The order is the order given: the first interceptor is the outermost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

import grpc

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


class InterceptorChain:
    """`interceptors`, outermost first, and then `decode` (innermost: requests are parsed
    there, after authentication), around the handlers they are given."""

    def __init__(
        self, interceptors: Sequence[WrappingInterceptor], decode: DecodeInterceptor | None = None
    ) -> None:
        self._interceptors = tuple(interceptors)
        self._decode = decode

    def generic(
        self, handlers: grpc.GenericRpcHandler[Any, Any]
    ) -> grpc.GenericRpcHandler[Any, Any]:
        """`handlers` with each method's handler wrapped (the first time it is asked for)."""
        return _Wrapped(handlers, self.wrap)

    def wrap(self, handler: Handler, full_method: str) -> Handler:
        if self._decode is not None:
            handler = self._decode.wrap(handler)
        layers = [i for i in self._interceptors if i.applies_to(full_method)]
        if handler.request_streaming or handler.response_streaming:
            for layer in reversed(layers):
                handler = layer.wrap(handler, full_method)
            return handler
        return _unary(handler, full_method, tuple(layer.around for layer in layers))


class _Wrapped(grpc.GenericRpcHandler):  # type: ignore[type-arg]
    def __init__(
        self, handlers: grpc.GenericRpcHandler[Any, Any], wrap: Callable[[Handler, str], Handler]
    ) -> None:
        self._handlers = handlers
        self._wrap = wrap
        self._wrapped = WrappedHandlers()

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> Handler | None:
        handler = self._handlers.service(handler_call_details)
        if handler is None:
            return None
        return self._wrapped.of(handler_call_details.method, handler, self._wrap)


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
