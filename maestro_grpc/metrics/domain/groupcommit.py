"""Group commit: batches that wait at the same time are stored in one transaction.

One WAL flush serves them all, and on PostgreSQL their points go in one
COPY. Batches of one producer keep their sequence order.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable

from maestro_grpc.metrics.model import PreparedBatch, WriteResult

Pending = tuple[PreparedBatch, asyncio.Future[WriteResult]]


class GroupCommit:
    """Collects batches waiting to be stored and writes them in groups.

    While all write slots are busy, batches pile up; the next free slot
    takes them all (up to max_rows) and writes them as one group, in one
    transaction. Batches of one producer are written in sequence order: a
    producer whose earlier batch is still being written waits for the next
    group. Under no contention a group is one batch.
    """

    def __init__(
        self,
        write: Callable[[list[PreparedBatch]], Awaitable[list[WriteResult | BaseException]]],
        *,
        slots: int,
        max_rows: int = 50_000,
    ) -> None:
        self.write = write
        self.slots = slots
        self.max_rows = max_rows
        self.running = 0
        self.pending: list[Pending] = []
        self.busy: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, item: PreparedBatch) -> asyncio.Future[WriteResult]:
        """Queue a batch; the future gets its result once committed (or its error)."""
        future: asyncio.Future[WriteResult] = asyncio.get_running_loop().create_future()
        self.pending.append((item, future))
        self._kick()
        return future

    def _kick(self) -> None:
        while self.running < self.slots:
            group = self._take()
            if not group:
                return
            producers = {i.position.producer_id for i, _ in group if i.position is not None}
            self.running += 1
            self.busy |= producers
            # A context of its own: the group writes many callers' batches, and
            # must not run as whichever caller happened to start it.
            task = asyncio.create_task(self._run(group, producers), context=contextvars.Context())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _take(self) -> list[Pending]:
        taken: list[Pending] = []
        left: list[Pending] = []
        blocked = set(self.busy)
        rows = 0
        for item, future in self.pending:
            if future.cancelled():
                continue
            producer = item.position.producer_id if item.position is not None else None
            size = len(item.points) + len(item.events)
            if (producer is not None and producer in blocked) or (
                taken and rows + size > self.max_rows
            ):
                left.append((item, future))
                if producer is not None:
                    blocked.add(producer)
                continue
            taken.append((item, future))
            rows += size
        self.pending = left
        return taken

    async def _run(self, group: list[Pending], producers: set[str]) -> None:
        try:
            results = await self.write([item for item, _ in group])
        except BaseException as error:
            results = [error] * len(group)
        finally:
            self.running -= 1
            self.busy -= producers
        for (_, future), result in zip(group, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
        self._kick()
