"""A project's live feed: WatchMetrics, pushed to the page as server-sent events.

Each write's points become one `points` event whose id is the write's feed
sequence, so a browser that reconnects (EventSource does so by itself)
sends Last-Event-ID and the watch resumes after it: no point is lost or
shown twice. A comment every 15 s keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import grpc
import grpc.aio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from maestro.metrics.v1 import metrics_service_pb2 as mpb
from maestro_grpc.web.client import metadata
from maestro_grpc.web.security import session_token
from maestro_grpc.web.views import backend, not_found_page

KEEPALIVE_SECONDS = 15.0


def _after(request: Request) -> int:
    raw = request.headers.get("last-event-id", "")
    return int(raw) if raw.isdigit() else 0


def encode(message: mpb.WatchMetricsResponse) -> str:
    points = [
        {"name": p.name, "t": p.time.ToMicroseconds() / 1e6, "v": p.value} for p in message.points
    ]
    data = json.dumps({"points": points, "events": len(message.events)}, separators=(",", ":"))
    return f"id: {message.sequence}\nevent: points\ndata: {data}\n\n"


async def feed(request: Request) -> Response:
    project_id = request.path_params["project_id"]
    call = backend(request).metrics.WatchMetrics(
        mpb.WatchMetricsRequest(project_id=project_id, after_sequence=_after(request)),
        metadata=metadata(session_token(request)),
    )
    # The first message says the watch is in place (or the call fails:
    # unknown project, no right), before the stream is answered.
    try:
        first = await call.read()
    except grpc.aio.AioRpcError as error:
        if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
            return not_found_page(request)
        raise
    assert isinstance(first, mpb.WatchMetricsResponse)

    async def events() -> AsyncIterator[str]:
        try:
            yield f"id: {first.sequence}\nevent: ready\ndata: {{}}\n\n"
            reading = asyncio.ensure_future(call.read())
            while True:
                done, _ = await asyncio.wait({reading}, timeout=KEEPALIVE_SECONDS)
                if not done:
                    yield ": keepalive\n\n"
                    continue
                message = reading.result()
                if not isinstance(message, mpb.WatchMetricsResponse):
                    return  # the server ended the watch; the browser will reconnect
                yield encode(message)
                reading = asyncio.ensure_future(call.read())
        except grpc.aio.AioRpcError:
            return  # the watch ended (the server stopped, a slow watcher): reconnect
        finally:
            call.cancel()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )
