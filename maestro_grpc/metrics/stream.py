"""One StreamMetrics call: open, then batches in sequence, each acked once durable.

A reader task takes the agent's messages off the wire promptly into a small
queue (at most the in-flight window); a process-wide byte budget bounds
what all streams hold in memory, and when it is spent readers stop reading,
which pushes back on the agents through HTTP/2 flow control. The writer
(the call's own task) stores batch after batch and yields the acks. After
the stream lifetime the reader stops, queued batches are still written and
acked, and the call ends with OK.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import duration_pb2

from maestro.metrics.v1 import metric_pb2
from maestro.metrics.v1 import metrics_service_pb2 as pb
from maestro_grpc.errors import InvalidArgument, ResourceExhausted
from maestro_grpc.metrics.convert import BatchDecoder
from maestro_grpc.metrics.domain.ingest import Ingestor
from maestro_grpc.metrics.model import (
    Duplicate,
    PreparedBatch,
    Rejected,
    StreamPosition,
    WriteResult,
    gap,
    superseded,
)
from maestro_grpc.metrics.validation import producer_problem
from maestro_grpc.wire.protoconv import parse_uuid

log = logging.getLogger("maestro.metrics.stream")


class ByteBudget:
    """A process-wide allowance of bytes held by received, unstored batches."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._changed = asyncio.Condition()

    async def acquire(self, size: int) -> None:
        """Wait until `size` bytes fit (a batch bigger than the whole budget waits for all)."""
        size = min(size, self.limit)
        async with self._changed:
            await self._changed.wait_for(lambda: self.used + size <= self.limit)
            self.used += size

    async def release(self, size: int) -> None:
        size = min(size, self.limit)
        async with self._changed:
            self.used -= size
            self._changed.notify_all()


@dataclass
class StreamLimits:
    max_inflight_batches: int
    max_batch_rows: int
    lifetime_seconds: float


@dataclass
class _Session:
    producer_id: str
    epoch: int
    superseded: asyncio.Event = field(default_factory=asyncio.Event)
    newer_epoch: int = 0


class StreamRegistry:
    """This process's open streams by producer, so a newer open ends an older one."""

    def __init__(self) -> None:
        self.sessions: dict[str, _Session] = {}

    def register(self, session: _Session) -> None:
        older = self.sessions.get(session.producer_id)
        if older is not None and older.epoch < session.epoch:
            self.supersede(older.producer_id, session.epoch)
        self.sessions[session.producer_id] = session

    def supersede(self, producer_id: str, epoch: int) -> None:
        session = self.sessions.get(producer_id)
        if session is not None and session.epoch < epoch:
            session.newer_epoch = epoch
            session.superseded.set()

    def unregister(self, session: _Session) -> None:
        if self.sessions.get(session.producer_id) is session:
            del self.sessions[session.producer_id]


_END = object()
Announce = Callable[[str, int], Awaitable[None]]


class StreamHandler:
    """Runs StreamMetrics calls against an Ingestor."""

    def __init__(
        self,
        ingest: Ingestor,
        limits: StreamLimits,
        budget: ByteBudget,
        registry: StreamRegistry,
        announce: Announce | None = None,
    ) -> None:
        self.ingest = ingest
        self.limits = limits
        self.budget = budget
        self.registry = registry
        self.clock = ingest.clock
        # Called with (producer_id, epoch) after an open, to end older
        # streams on other replicas.
        self.announce = announce

    async def run(
        self, requests: AsyncIterator[pb.StreamMetricsRequest]
    ) -> AsyncIterator[pb.StreamMetricsResponse]:
        first = await anext(aiter(requests), None)
        if first is None:
            return
        if first.WhichOneof("message") != "open":
            raise InvalidArgument.for_field("open", "the first message of a stream must be open")
        problem = producer_problem(first.open.producer_id)
        if problem:
            raise InvalidArgument.for_field("open.producer_id", problem)
        scope = parse_uuid(first.open.project_id, "open.project_id", required=False)
        producer_id = first.open.producer_id
        opened = await self.ingest.open_producer(producer_id, scope)
        session = _Session(producer_id, opened.epoch)
        self.registry.register(session)
        try:
            if self.announce is not None:
                await self.announce(producer_id, opened.epoch)
            lifetime = self.limits.lifetime_seconds
            yield pb.StreamMetricsResponse(
                opened=pb.StreamOpened(
                    committed_sequence=opened.committed_sequence,
                    epoch=opened.epoch,
                    max_inflight_batches=self.limits.max_inflight_batches,
                    max_batch_rows=self.limits.max_batch_rows,
                    stream_lifetime=duration_pb2.Duration(
                        seconds=int(lifetime), nanos=int(lifetime % 1 * 1e9)
                    ),
                )
            )
            async for ack in self._batches(requests, session, scope, opened.committed_sequence):
                yield ack
        finally:
            self.registry.unregister(session)

    async def _batches(
        self,
        requests: AsyncIterator[pb.StreamMetricsRequest],
        session: _Session,
        scope: uuid.UUID | None,
        committed: int,
    ) -> AsyncIterator[pb.StreamMetricsResponse]:
        """Read, store and ack batches until the agent is done or the lifetime is over.

        Up to max_inflight_batches of this stream are being stored at once
        (they commit in sequence order, possibly together with other
        streams' batches); acks go out in sequence order.
        """
        # A hand-over of one message: the in-flight window below is what
        # bounds a stream, and a full window stops the reader here.
        queue: asyncio.Queue[object] = asyncio.Queue(maxsize=1)
        reader = asyncio.create_task(self._read(requests, queue))
        deadline = time.monotonic() + self.limits.lifetime_seconds
        superseded_wait = asyncio.create_task(session.superseded.wait())
        inflight: deque[_Inflight] = deque()
        getter: asyncio.Task[object] | None = None
        reading = True
        expected = committed + 1
        try:
            while True:
                while inflight and inflight[0].ready():
                    done = inflight.popleft()
                    await self.budget.release(done.size)
                    yield pb.StreamMetricsResponse(ack=done.ack())
                if not reading and not inflight and queue.empty():
                    return
                waits: set[asyncio.Future[Any]] = {superseded_wait}
                if inflight and inflight[0].future is not None:
                    waits.add(inflight[0].future)
                if len(inflight) < self.limits.max_inflight_batches:
                    if reading and getter is None:
                        getter = asyncio.create_task(queue.get())
                    if getter is not None:
                        waits.add(getter)
                    elif not queue.empty():  # draining after the lifetime
                        getter = asyncio.create_task(queue.get())
                        waits.add(getter)
                timeout = max(0.0, deadline - time.monotonic()) if reading else None
                finished, _ = await asyncio.wait(
                    waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if superseded_wait in finished:
                    raise superseded(session.producer_id, session.newer_epoch)
                if reading and time.monotonic() >= deadline:
                    # Stop reading; what was read is still stored and acked.
                    reading = False
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await reader
                if getter is None or getter not in finished:
                    continue
                item = getter.result()
                getter = None
                if item is _END:
                    reading = False
                    continue
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, tuple)
                message, size = item
                sequence = message.sequence
                if sequence <= 0:
                    await self.budget.release(size)
                    raise InvalidArgument.for_field("batch.sequence", "must be positive")
                if sequence < expected:
                    inflight.append(_Inflight(sequence, size, None))
                    continue
                if sequence > expected:
                    await self.budget.release(size)
                    # Ack what is in flight first, then refuse the gap.
                    while inflight:
                        done = inflight.popleft()
                        if done.future is not None:
                            await asyncio.wait({done.future})
                        await self.budget.release(done.size)
                        yield pb.StreamMetricsResponse(ack=done.ack())
                    raise gap(sequence, expected)
                try:
                    prepared = await self._prepare(message, session, scope)
                except BaseException:
                    await self.budget.release(size)
                    raise
                inflight.append(_Inflight(sequence, size, self.ingest.submit(prepared)))
                expected += 1
        finally:
            superseded_wait.cancel()
            if getter is not None:
                getter.cancel()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            for pending in inflight:
                await self.budget.release(pending.size)
            while not queue.empty():
                left = queue.get_nowait()
                if isinstance(left, tuple):
                    await self.budget.release(left[1])

    async def _read(
        self, requests: AsyncIterator[pb.StreamMetricsRequest], queue: asyncio.Queue[object]
    ) -> None:
        try:
            async for message in requests:
                if message.WhichOneof("message") != "batch":
                    await queue.put(
                        InvalidArgument.for_field(
                            "open", "a stream is opened once; later messages must be batches"
                        )
                    )
                    return
                size = message.ByteSize()
                # Waiting here stops reading the stream: flow control pushes back.
                await self.budget.acquire(size)
                try:
                    await queue.put((message.batch, size))
                except BaseException:
                    await self.budget.release(size)
                    raise
            await queue.put(_END)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the transport failed under us
            await queue.put(error)

    async def _prepare(
        self, message: pb.StreamBatch, session: _Session, scope: uuid.UUID | None
    ) -> PreparedBatch:
        decoder = BatchDecoder(
            now=self.clock(),
            max_rows=self.limits.max_batch_rows,
            scope=scope,
            field="batch.batch",
        )
        batch = decoder.decode(message.batch)
        position = StreamPosition(session.producer_id, session.epoch, message.sequence)
        return await self.ingest.prepare(batch, position)


@dataclass
class _Inflight:
    """A batch of this stream being stored (future), or a duplicate to ack (no future)."""

    sequence: int
    size: int
    future: asyncio.Future[WriteResult] | None

    def ready(self) -> bool:
        return self.future is None or self.future.done()

    def ack(self) -> pb.BatchAck:
        if self.future is None:
            return pb.BatchAck(sequence=self.sequence, duplicate=True)
        try:
            result = self.future.result()
        except Duplicate:
            return pb.BatchAck(sequence=self.sequence, duplicate=True)
        return pb.BatchAck(
            sequence=self.sequence,
            stored_points=result.stored_points,
            stored_events=result.stored_events,
            rejected=rejected_to_proto(result.rejected),
        )


def rejected_to_proto(rows: list[Rejected]) -> list[metric_pb2.RejectedRow]:
    return [metric_pb2.RejectedRow(field=r.field, description=r.description) for r in rows]


async def acquire_or_exhausted(budget: ByteBudget, size: int, wait: float) -> None:
    """For unary writes: wait a little for the budget, then RESOURCE_EXHAUSTED."""
    try:
        async with asyncio.timeout(wait):
            await budget.acquire(size)
    except TimeoutError:
        raise ResourceExhausted(
            "the server is busy storing other batches; retry after the delay",
            reason="INGEST_BUSY",
            retry_delay_seconds=1.0,
        ) from None
