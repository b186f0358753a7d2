"""The plumbing every server interceptor shares: wrapping a handler's behaviour.

grpc.aio hands an interceptor a method handler of one of four kinds. A
`WrappingInterceptor` sees a call whose response is one message through
`around` (await `proceed()` to run it), and a call whose response is a stream
through `around_stream` (an async generator re-yielding the inner stream).
Messages of client and bidi streams pass through `on_request`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

import grpc
import grpc.aio

from maestro_grpc.wire.context import Context

Behavior = Callable[..., Any]
if TYPE_CHECKING:
    Handler = grpc.RpcMethodHandler[Any, Any]
else:  # grpc.RpcMethodHandler is not generic at run time
    Handler = grpc.RpcMethodHandler


def rpc_type(handler: Handler) -> str:
    if handler.request_streaming and handler.response_streaming:
        return "bidi_stream"
    if handler.request_streaming:
        return "client_stream"
    if handler.response_streaming:
        return "server_stream"
    return "unary"


def split_method(full_method: str) -> tuple[str, str]:
    """'/pkg.Service/Method' -> ('pkg.Service', 'Method')."""
    parts = full_method.split("/")
    if len(parts) == 3:
        return parts[1], parts[2]
    return "", full_method


class CallInfo:
    """What an interceptor knows of one call (its request, when that is one message)."""

    __slots__ = (
        "_metadata",
        "_peer",
        "context",
        "method",
        "method_name",
        "request",
        "requests",
        "service",
        "type",
    )

    def __init__(
        self,
        full_method: str,
        kind: str,
        context: Context,
        request: Any = None,
        names: tuple[str, str] | None = None,
    ) -> None:
        self.method = full_method
        # (service, method name): split_method(full_method), when the caller has it at hand.
        self.service, self.method_name = split_method(full_method) if names is None else names
        self.type = kind
        self.context = context
        self.request = request
        # A request-streaming call's messages, as this interceptor passes them on.
        self.requests: AsyncIterator[Any] | None = None
        self._metadata: Any = None
        self._peer: str | None = None

    def header(self, key: str) -> str:
        """The first text value of the call's metadata `key` ("" when it has none)."""
        metadata = self._metadata
        if metadata is None:
            # grpc.aio builds the tuple anew on each invocation_metadata(): once a call.
            metadata = self._metadata = self.context.invocation_metadata() or ()
        for name, value in metadata:
            if name == key and isinstance(value, str):
                return value
        return ""

    def peer(self) -> str:
        """The caller's address, read once (the first time it is asked for, which should be
        at the call's start: grpc.aio's peer() on a call the client already cancelled can
        crash the process)."""
        if self._peer is None:
            self._peer = self.context.peer() or ""
        return self._peer


class WrappedHandlers:
    """Each method's handler as an interceptor wrapped it, wrapped once: a method's
    handler is the same object on every call."""

    __slots__ = ("_by_method",)

    def __init__(self) -> None:
        self._by_method: dict[str, tuple[Handler, Handler]] = {}

    def of(self, method: str, handler: Handler, wrap: Callable[[Handler, str], Handler]) -> Handler:
        """`wrap(handler, method)`, made the first time `method` is called with `handler`."""
        cached = self._by_method.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = wrap(handler, method)
        self._by_method[method] = (handler, wrapped)
        return wrapped


class WrappingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Base class: override `around` and `around_stream` to act on each call."""

    _wrapped: WrappedHandlers

    def __new__(cls, *args: Any, **kwargs: Any) -> WrappingInterceptor:
        instance = super().__new__(cls)
        instance._wrapped = WrappedHandlers()
        return instance

    def applies_to(self, full_method: str) -> bool:
        return True

    async def around(self, call: CallInfo, proceed: Callable[[], Awaitable[Any]]) -> Any:
        return await proceed()

    async def around_stream(self, call: CallInfo, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in stream:
            yield item

    def on_request(self, call: CallInfo) -> None:
        """Called for each message received on a client or bidi stream."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not self.applies_to(method):
            return handler
        return self._wrapped.of(method, handler, self.wrap)

    def wrap(self, handler: Handler, full_method: str) -> Handler:
        """`handler` with this interceptor's behaviour around each of its calls."""
        kind = rpc_type(handler)
        interceptor = self
        names = split_method(full_method)
        serializers = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }

        if not handler.response_streaming and not handler.request_streaming:
            inner_unary = cast(Behavior, handler.unary_unary)

            async def unary(request: Any, context: Context) -> Any:
                call = CallInfo(full_method, kind, context, request, names)
                return await interceptor.around(call, lambda: run(inner_unary, request, context))

            return grpc.unary_unary_rpc_method_handler(unary, **serializers)

        if not handler.response_streaming:
            inner = cast(Behavior, handler.stream_unary)

            async def client_stream(request: Any, context: Context) -> Any:
                call = CallInfo(full_method, kind, context, None, names)
                request, source = _source(request)
                request = call.requests = interceptor._observe_requests(call, request)
                async with _released(source):
                    return await interceptor.around(call, lambda: run(inner, request, context))

            return grpc.stream_unary_rpc_method_handler(client_stream, **serializers)

        inner_stream = cast(
            Behavior, handler.stream_stream if handler.request_streaming else handler.unary_stream
        )

        async def stream_response(request: Any, context: Context) -> AsyncGenerator[Any, None]:
            source = None
            if handler.request_streaming:
                call = CallInfo(full_method, kind, context, None, names)
                request, source = _source(request)
                request = call.requests = interceptor._observe_requests(call, request)
            else:
                call = CallInfo(full_method, kind, context, request, names)
            inner = iterate(inner_stream(request, context))
            stream = interceptor.around_stream(call, inner)
            # `async for` closes nothing it leaves early. A client that cancels
            # while we wait at a yield leaves this generator to be finalized;
            # closing what it wraps then runs every finally down to the
            # handler's (an open blob, a stream's bookkeeping) at once, not
            # whenever the garbage collector breaks a cycle that keeps it.
            async with _released(source), _closing(inner), _closing(stream):
                async for item in stream:
                    yield item

        if handler.request_streaming:
            return grpc.stream_stream_rpc_method_handler(stream_response, **serializers)
        return grpc.unary_stream_rpc_method_handler(stream_response, **serializers)

    def _observe_requests(self, call: CallInfo, requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
        if type(self).on_request is WrappingInterceptor.on_request:
            return requests  # nothing to observe: no generator of ours per message

        async def observed() -> AsyncIterator[Any]:
            async for item in requests:
                self.on_request(call)
                yield item

        return observed()


async def run(behavior: Behavior, request: Any, context: Context) -> Any:
    """A handler's one response, whether the handler is a coroutine function or not."""
    result = behavior(request, context)
    return await result if inspect.isawaitable(result) else result


async def iterate(generator: Any) -> AsyncGenerator[Any, None]:
    """A handler's response stream, whether it yields or writes with context.write()."""
    if inspect.isawaitable(generator):
        # A handler written as a coroutine using context.write(): nothing to relay.
        await generator
        return
    async with _closing(generator):
        async for item in generator:
            yield item


@contextlib.asynccontextmanager
async def _closing(stream: AsyncIterator[Any]) -> AsyncIterator[None]:
    """Close `stream` on the way out when it can be closed (async generators can)."""
    try:
        yield
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()


class RequestSource:
    """A request-streaming call's messages as gRPC delivers them, read so that a
    reader cancelled mid-read loses nothing.

    gRPC has one receive operation per call at a time: a read cancelled while
    it waits leaves that operation pending, its message is lost, and later
    reads see the end of the stream. Here one task per call (the pump) does
    the reading, and hands each message over through a one-place queue,
    whose get a cancelled reader leaves untouched; the next read takes the
    message. StreamMetrics cancels its reader task when a stream ends, and
    `drain` reads after that.

    The pump reads the next message as soon as the last one is taken, so one
    message per call may wait here (read ahead of its reader, outside any
    budget of the handler's); not more. A task per message, as before, cost
    a loop turn and two futures per message, and the reader waited for each.
    """

    __slots__ = ("_messages", "_pump", "_queue", "_taken")

    def __init__(self, messages: AsyncIterator[Any]) -> None:
        self._messages = aiter(messages)
        self._queue: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue(maxsize=1)
        self._taken = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None

    def __aiter__(self) -> RequestSource:
        return self

    async def __anext__(self) -> Any:
        if self._pump is None:
            self._taken.set()
            self._pump = asyncio.ensure_future(self._run())
        ok, item = await self._queue.get()
        if not ok:
            # The end, or the stream's error: every later read sees it too.
            self._queue.put_nowait((ok, item))
            raise item
        self._taken.set()
        return item

    async def _run(self) -> None:
        while True:
            await self._taken.wait()
            self._taken.clear()
            try:
                item = await anext(self._messages)
            except StopAsyncIteration:
                self._queue.put_nowait((False, StopAsyncIteration()))
                return
            except BaseException as error:  # the call failed, ended or was cancelled
                # (the queue is empty: its last message was taken)
                self._queue.put_nowait((False, error))
                if isinstance(error, asyncio.CancelledError):
                    raise
                return  # the reader raises it (nobody waits for this task)
            self._queue.put_nowait((True, item))

    def close(self) -> None:
        """The call is over: stop the pump (a message it holds is dropped)."""
        if self._pump is not None and not self._pump.done():
            self._pump.cancel()


# The call's RequestSource, made by the outermost interceptor (one per call:
# each call runs in a task, and so in a context, of its own).
_SOURCE: contextvars.ContextVar[RequestSource | None] = contextvars.ContextVar(
    "maestro_request_source", default=None
)


def _source(requests: AsyncIterator[Any]) -> tuple[AsyncIterator[Any], RequestSource | None]:
    """The outermost interceptor wraps gRPC's messages in the call's RequestSource
    (and closes it when the call ends: the second value, None elsewhere)."""
    if _SOURCE.get() is not None:
        return requests, None
    source = RequestSource(requests)
    _SOURCE.set(source)
    return source, source


@contextlib.asynccontextmanager
async def _released(source: RequestSource | None) -> AsyncIterator[None]:
    """Stop the call's RequestSource (if this interceptor made it) when the call ends."""
    try:
        yield
    finally:
        if source is not None:
            source.close()


# Ending a call with an error while its client still streams: read (and drop)
# what is already on its way first, up to these bounds. A grpc.aio client
# whose write fails after the status arrived reports INTERNAL instead of the
# server's status (grpc/grpc#36066); draining gives it the real answer. A
# client that sends nothing for DRAIN_IDLE_SECONDS (one waiting for acks) is
# not waited for.
DRAIN_BYTES = 16 << 20
DRAIN_SECONDS = 2.0
DRAIN_IDLE_SECONDS = 0.2


async def drain(call: CallInfo) -> None:
    """Read what a failed request-streaming call's client already sent, within the
    bounds above, from the call's RequestSource (the interceptors' and handler's
    iterators above it may have been closed when the handler ended)."""
    source = _SOURCE.get()
    if call.requests is None or source is None:
        return
    drained = 0
    # TimeoutError and StopAsyncIteration end it; so does any error of the
    # stream itself, which the status being sent already covers.
    with contextlib.suppress(Exception):
        async with asyncio.timeout(DRAIN_SECONDS):
            while drained <= DRAIN_BYTES:
                message = await asyncio.wait_for(anext(source), DRAIN_IDLE_SECONDS)
                size = getattr(message, "size", None)
                drained += size() if callable(size) else 0
