"""The audit log as the domain sees it: denials queued off the request path, reads, retention.

A write's event is appended by the store in the write's own transaction
(`maestro_grpc/audit.py`, `store/db.py`); a denied call wrote nothing, so its
event goes through a bounded queue that a background task drains in
batches: a flood of refused calls costs the store one insert per batch, and
past `max_queued` waiting events further ones are counted and dropped
(`dropped`), never blocking a call.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import timedelta

from maestro_grpc import audit
from maestro_grpc.access.model import AuditEvent, AuditQuery
from maestro_grpc.access.store.audit import AuditStore
from maestro_grpc.audit import AuditScope, Denial
from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.paging import Cursor

log = logging.getLogger("maestro.audit")

MAX_QUEUED = 10_000
BATCH = 500


class AuditLog:
    def __init__(
        self, store: AuditStore, *, clock: Clock = utcnow, max_queued: int = MAX_QUEUED
    ) -> None:
        self.store = store
        self.clock = clock
        self.max_queued = max_queued
        self.dropped = 0
        self._queue: deque[Denial] = deque()
        self._waiting = asyncio.Event()

    def deny(self, scope: AuditScope, code: str, detail: str) -> None:
        """Queue a refused call's event."""
        if len(self._queue) >= self.max_queued:
            self.dropped += 1
            return
        self._queue.append(Denial(time=self.clock(), scope=scope, code=code, detail=detail))
        self._waiting.set()

    async def flush(self) -> int:
        """Store what is queued; how many."""
        stored = 0
        with audit.scope(None):
            while self._queue:
                batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
                try:
                    await self.store.record_denials(batch)
                except Exception:
                    self._queue.extendleft(reversed(batch))
                    raise
                stored += len(batch)
        return stored

    async def run(self, every: float = 0.5) -> None:
        """Drain the queue for as long as the server runs."""
        while True:
            await self._waiting.wait()
            self._waiting.clear()
            try:
                await self.flush()
            except Exception as error:  # the store is down: keep them, try again
                log.warning("could not store %d audit events yet: %s", len(self._queue), error)
                self._waiting.set()
            await asyncio.sleep(every)

    async def list(
        self, query: AuditQuery, *, page_size: int, after: Cursor | None
    ) -> tuple[list[AuditEvent], Cursor | None]:
        return await self.store.list(query, page_size=page_size, after=after)

    async def apply_retention(self, days: float) -> int:
        """Delete events older than `days` (0: keep everything); how many went."""
        if days <= 0:
            return 0
        with audit.scope(None):
            return await self.store.trim(self.clock() - timedelta(days=days))
