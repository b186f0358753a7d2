"""The type of a handler's `context` argument, for every servicer."""

from __future__ import annotations

from typing import Any

import grpc.aio

# The generated asyncio stubs type each handler's context by its request and
# response; handlers only abort, read metadata and set trailers, none of
# which depends on the message types.
Context = grpc.aio.ServicerContext[Any, Any]
