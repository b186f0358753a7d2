"""Health: overall and per service, NOT_SERVING while the store is unreachable.

One more entry, `liveness`, answers SERVING as long as the process serves at
all: a liveness probe asks it, so a store outage takes replicas out of load
balancing (readiness asks the overall entry) without restarting them, which
would not cure it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from grpc_health.v1 import health_pb2
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]

from maestro_grpc.store.db import Database

log = logging.getLogger("maestro.health")

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
LIVENESS = "liveness"


class HealthServicer(health_aio.HealthServicer):  # type: ignore[misc]
    """grpcio's asyncio health servicer, with List, and entries that change together."""

    async def List(
        self, request: health_pb2.HealthListRequest, context: Any
    ) -> health_pb2.HealthListResponse:
        """Every entry and its status (grpcio's asyncio servicer lacks it: it answered INTERNAL)."""
        response = health_pb2.HealthListResponse()
        for name, status in sorted(self._server_status.items()):
            response.statuses[name].status = status
        return response

    async def set_all(self, names: Sequence[str], status: int) -> None:
        """Give every entry `status` at once: no check sees "" SERVING beside a NOT_SERVING one."""
        if self._gracefully_shutting_down:
            return
        for name in names:
            self._server_status[name] = status
        for name in names:
            # Wake the Watch streams (what the parent's set() does after its own write).
            await self.set(name, status)


class StoreHealth:
    """Pings the store every `interval` seconds and keeps the health service in step."""

    def __init__(self, db: Database, services: Sequence[str], interval: float = 5.0) -> None:
        self.db = db
        self.services = ["", *services]
        self.interval = interval
        self.servicer = HealthServicer()
        self.serving: bool | None = None
        # Whether the last ping answered, draining or not (maestro_store_up).
        self.reachable = False
        self.draining = False
        self._task: asyncio.Task[None] | None = None

    async def _set(self, serving: bool) -> None:
        if serving == self.serving:
            return
        self.serving = serving
        status = SERVING if serving else NOT_SERVING
        await self.servicer.set_all(self.services, status)
        if serving:
            log.info("store reachable: SERVING")
        else:
            log.warning("store unreachable: NOT_SERVING")

    async def check_once(self) -> bool:
        ok = await self.db.ping(within=max(1.0, self.interval))
        self.reachable = ok
        if not self.draining:
            await self._set(ok)
        return ok

    async def start(self) -> None:
        await self.servicer.set(LIVENESS, SERVING)
        await self.check_once()
        self._task = asyncio.create_task(self._loop(), name="store-health")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check_once()
            except Exception:  # pragma: no cover - ping swallows store errors
                log.exception("health check failed")

    async def drain(self) -> None:
        """Report NOT_SERVING for good: we are shutting down."""
        self.draining = True
        self.serving = None
        await self.servicer.set_all(self.services, NOT_SERVING)
        await self.servicer.enter_graceful_shutdown()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
