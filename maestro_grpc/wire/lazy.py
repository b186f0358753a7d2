"""A servicer that builds the real one on its first call.

The Prediction service needs scikit-learn, SciPy and pandas (about 120 MB
resident); a server whose callers never ask for predictions should not pay
for them. `lazy_servicer` registers at start with no heavy imports, and the
first RPC imports and builds the real servicer (once, even under concurrent
first calls). A server that expects those calls asks for it at start
instead (`prepare`), and the servicer's own `warm()`, when it has one,
follows.

The build runs in a worker thread: those imports take a second or two on a
quiet machine and ten or more on a loaded one, and on the event loop they
would freeze every call this process serves (the web UI's too) until done.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from google.protobuf.descriptor import ServiceDescriptor

from maestro_grpc.wire.context import Context


def lazy_servicer(base: type, service: ServiceDescriptor, build: Callable[[], Any]) -> Any:
    """An instance of the generated `base` whose RPCs forward to `build()`'s result."""
    state: dict[str, Any] = {}
    lock = asyncio.Lock()

    async def real() -> Any:
        if "servicer" not in state:
            async with lock:
                if "servicer" not in state:
                    state["servicer"] = await asyncio.to_thread(build)
        return state["servicer"]

    async def prepare(self: Any) -> None:
        servicer = await real()
        warm = getattr(servicer, "warm", None)
        if warm is not None:
            await warm()

    def forward(name: str, server_streaming: bool) -> Any:
        if server_streaming:

            async def stream(self: Any, request: Any, context: Context) -> AsyncIterator[Any]:
                async for item in getattr(await real(), name)(request, context):
                    yield item

            stream.__name__ = name
            return stream

        async def unary(self: Any, request: Any, context: Context) -> Any:
            return await getattr(await real(), name)(request, context)

        unary.__name__ = name
        return unary

    methods = {m.name: forward(m.name, m.server_streaming) for m in service.methods}
    methods["prepare"] = prepare
    return type(f"Lazy{base.__name__}", (base,), methods)()
