"""Requests are parsed inside the interceptor chain, not before it.

gRPC parses a request before any interceptor runs: bytes that do not parse
(garbage, invalid UTF-8 in a string, a Struct nested past protobuf's depth
limit) ended the call UNKNOWN or INTERNAL with the message type's name, with
no request id, no access-log line and no metric, and before authentication.
So every handler is registered here with a deserializer that only wraps the
bytes (`RawRequest`, no parsing); the outer interceptors see every call, the
access interceptor authenticates before it asks for the message, and the
handler gets the parsed message from the innermost wrapper. Bytes that do
not parse are INVALID_ARGUMENT (reason MALFORMED_REQUEST), without naming
the type.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import grpc
import grpc.aio

from maestro_grpc.errors import InvalidArgument
from maestro_grpc.interceptors.base import Handler, WrappedHandlers, iterate
from maestro_grpc.wire.context import Context

Parse = Callable[[bytes], Any]


class RawRequest:
    """A request's bytes and how to parse them (once)."""

    __slots__ = ("_data", "_message", "_parse")

    def __init__(self, data: bytes, parse: Parse) -> None:
        self._data = data
        self._parse = parse
        self._message: Any = None

    def size(self) -> int:
        return len(self._data)

    def message(self) -> Any:
        if self._message is None:
            try:
                self._message = self._parse(self._data)
            except Exception:  # DecodeError, bad UTF-8, recursion past the depth limit
                raise InvalidArgument(
                    "the request does not parse as this method's request message",
                    reason="MALFORMED_REQUEST",
                ) from None
        return self._message


def parsed(request: Any) -> Any:
    """The message of a request as an interceptor sees it."""
    return request.message() if isinstance(request, RawRequest) else request


class DecodeInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """The innermost interceptor: the only place requests are parsed."""

    def __init__(self) -> None:
        self._wrapped = WrappedHandlers()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.request_deserializer is None:
            return handler
        return self._wrapped.of(handler_call_details.method, handler, self.wrap)

    @staticmethod
    def wrap(handler: Handler, full_method: str = "") -> Handler:
        """`handler`, given its request's bytes unparsed, parsing them when first asked
        (the same for every method)."""
        return handler if handler.request_deserializer is None else _lazy(handler)


def _lazy(handler: Handler) -> Handler:
    parse = cast(Parse, handler.request_deserializer)

    def raw(data: bytes) -> RawRequest:
        return RawRequest(data, parse)

    options = {"request_deserializer": raw, "response_serializer": handler.response_serializer}

    async def messages(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for request in requests:
            yield parsed(request)

    if handler.request_streaming and handler.response_streaming:
        stream_stream = cast(Callable[..., Any], handler.stream_stream)

        def bidi(requests: Any, context: Context) -> Any:
            return stream_stream(messages(requests), context)

        return grpc.stream_stream_rpc_method_handler(bidi, **options)
    if handler.request_streaming:
        stream_unary = cast(Callable[..., Any], handler.stream_unary)

        def client_stream(requests: Any, context: Context) -> Any:
            return stream_unary(messages(requests), context)

        return grpc.stream_unary_rpc_method_handler(client_stream, **options)
    if handler.response_streaming:
        unary_stream = cast(Callable[..., Any], handler.unary_stream)

        async def server_stream(request: Any, context: Context) -> AsyncIterator[Any]:
            # Parsed when the stream is first read: the outer interceptors
            # (authentication first) run before that.
            async for item in iterate(unary_stream(parsed(request), context)):
                yield item

        return grpc.unary_stream_rpc_method_handler(server_stream, **options)
    unary_unary = cast(Callable[..., Any], handler.unary_unary)

    def unary(request: Any, context: Context) -> Any:
        return unary_unary(parsed(request), context)

    return grpc.unary_unary_rpc_method_handler(unary, **options)
