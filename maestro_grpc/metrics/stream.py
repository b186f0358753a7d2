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
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from google.protobuf import duration_pb2

from maestro.metrics.v1 import metric_pb2
from maestro.metrics.v1 import metrics_service_pb2 as pb
from maestro_grpc.errors import InvalidArgument, ResourceExhausted
from maestro_grpc.metrics.convert import BatchDecoder
from maestro_grpc.metrics.ingest import Duplicate, Ingestor, StreamPosition, gap, superseded
from maestro_grpc.metrics.model import Rejected
from maestro_grpc.metrics.validation import producer_problem
from maestro_grpc.protoconv import parse_uuid

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
        queue: asyncio.Queue[object] = asyncio.Queue(maxsize=self.limits.max_inflight_batches)
        held: list[int] = []
        reader = asyncio.create_task(self._read(requests, queue, held))
        deadline = time.monotonic() + self.limits.lifetime_seconds
        lifetime_over = False
        superseded_wait = asyncio.create_task(session.superseded.wait())
        try:
            while True:
                if not lifetime_over and time.monotonic() >= deadline:
                    # Stop reading; what is queued is still written and acked.
                    lifetime_over = True
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await reader
                    if queue.empty():
                        return
                getter = asyncio.ensure_future(queue.get())
                timeout = None if lifetime_over else max(0.0, deadline - time.monotonic())
                done, _ = await asyncio.wait(
                    {getter, superseded_wait},
                    timeout=timeout,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if superseded_wait in done:
                    getter.cancel()
                    raise superseded(session.producer_id, session.newer_epoch)
                if getter not in done:
                    getter.cancel()
                    continue
                item = getter.result()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, tuple)
                message, size = item
                try:
                    ack = await self._write(message, session, scope, committed)
                finally:
                    held.remove(size)
                    await self.budget.release(size)
                if not ack.duplicate:
                    committed = ack.sequence
                yield pb.StreamMetricsResponse(ack=ack)
                if lifetime_over and queue.empty():
                    return
        finally:
            superseded_wait.cancel()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            for size in held:
                await self.budget.release(size)
            held.clear()

    async def _read(
        self,
        requests: AsyncIterator[pb.StreamMetricsRequest],
        queue: asyncio.Queue[object],
        held: list[int],
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
                held.append(size)
                await queue.put((message.batch, size))
            await queue.put(_END)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the transport failed under us
            await queue.put(error)

    async def _write(
        self,
        message: pb.StreamBatch,
        session: _Session,
        scope: uuid.UUID | None,
        committed: int,
    ) -> pb.BatchAck:
        sequence = message.sequence
        if sequence <= 0:
            raise InvalidArgument.for_field("batch.sequence", "must be positive")
        if sequence <= committed:
            return pb.BatchAck(sequence=sequence, duplicate=True)
        if sequence > committed + 1:
            raise gap(sequence, committed + 1)
        decoder = BatchDecoder(
            now=self.clock(),
            max_rows=self.limits.max_batch_rows,
            scope=scope,
            field="batch.batch",
        )
        batch = decoder.decode(message.batch)
        try:
            result = await self.ingest.write(
                batch,
                position=StreamPosition(session.producer_id, session.epoch, sequence),
            )
        except Duplicate:
            return pb.BatchAck(sequence=sequence, duplicate=True)
        return pb.BatchAck(
            sequence=sequence,
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
