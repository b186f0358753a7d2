"""StreamMetrics in plain Python: open, then batches in sequence, each acked once durable.

A reader task takes the agent's batches off the wire promptly into a small
queue (at most the in-flight window); a process-wide byte budget bounds
what all streams hold in memory, and when it is spent readers stop reading,
which pushes back on the agents through HTTP/2 flow control. The writer
(the call's own task) stores batch after batch and hands out the acks.
After the stream lifetime, or when the process begins to shut down
(`closing`), the reader stops, queued batches are still written and acked,
and the call ends OK; the agent reopens (elsewhere) and resumes. The wire (`wire/stream.py`) turns
messages into `Incoming` batches and `Ack`s into messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from maestro_grpc.errors import ResourceExhausted, Unavailable
from maestro_grpc.metrics.domain.ingest import Ingestor
from maestro_grpc.metrics.model import (
    Batch,
    Duplicate,
    Opened,
    StreamPosition,
    WriteResult,
    gap,
    superseded,
)

# Told (producer_id, epoch) of each open; must not wait (announce.py).
Announce = Callable[[str, int], None]


class ByteBudget:
    """A process-wide allowance of bytes held by received, unstored batches."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        # How often a batch found the budget spent and waited (back-pressure).
        self.waits = 0
        self._changed = asyncio.Condition()

    async def acquire(self, size: int) -> None:
        """Wait until `size` bytes fit (a batch bigger than the whole budget waits for all)."""
        size = min(size, self.limit)
        async with self._changed:
            if self.used + size > self.limit:
                self.waits += 1
            await self._changed.wait_for(lambda: self.used + size <= self.limit)
            self.used += size

    async def release(self, size: int) -> None:
        size = min(size, self.limit)
        async with self._changed:
            self.used -= size
            self._changed.notify_all()


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


@dataclass
class StreamLimits:
    max_inflight_batches: int
    max_batch_rows: int
    lifetime_seconds: float


@dataclass
class StreamSession:
    """One open stream of a producer, at its epoch; told when a newer one takes over."""

    producer_id: str
    epoch: int
    superseded: asyncio.Event = field(default_factory=asyncio.Event)
    newer_epoch: int = 0


class StreamRegistry:
    """This process's open streams by producer, so a newer open ends an older one."""

    def __init__(self) -> None:
        self.sessions: dict[str, StreamSession] = {}

    def register(self, session: StreamSession) -> None:
        older = self.sessions.get(session.producer_id)
        if older is not None and older.epoch < session.epoch:
            self.supersede(older.producer_id, session.epoch)
        self.sessions[session.producer_id] = session

    def supersede(self, producer_id: str, epoch: int) -> None:
        session = self.sessions.get(producer_id)
        if session is not None and session.epoch < epoch:
            session.newer_epoch = epoch
            session.superseded.set()

    def unregister(self, session: StreamSession) -> None:
        if self.sessions.get(session.producer_id) is session:
            del self.sessions[session.producer_id]


@dataclass(frozen=True)
class Incoming:
    """A batch off the wire: its sequence, its size in bytes, and how to decode it."""

    sequence: int
    size: int
    decode: Callable[[], Batch]


@dataclass(frozen=True)
class Ack:
    """A batch's answer: what it stored, or None for a duplicate (stored before)."""

    sequence: int
    result: WriteResult | None


class Streams:
    """Opens producers' streams and runs their batches against an Ingestor."""

    def __init__(
        self,
        ingest: Ingestor,
        limits: StreamLimits,
        budget: ByteBudget,
        registry: StreamRegistry,
        announce: Announce | None = None,
        closing: asyncio.Event | None = None,
    ) -> None:
        self.ingest = ingest
        # Set when the server shuts down: open streams end as at their
        # lifetime, and new ones are refused UNAVAILABLE.
        self.closing = closing if closing is not None else asyncio.Event()
        self.limits = limits
        self.budget = budget
        self.registry = registry
        # Called with (producer_id, epoch) after an open, to end older
        # streams on other replicas.
        self.announce = announce

    @contextlib.asynccontextmanager
    async def session(
        self, producer_id: str, scope: uuid.UUID | None
    ) -> AsyncIterator[tuple[StreamSession, Opened]]:
        """Open a stream of the producer (a new epoch) for as long as the block runs."""
        if self.closing.is_set():
            raise Unavailable(
                "this server is shutting down; reconnect (another replica takes the stream)",
                retry_delay_seconds=0.5,
            )
        opened = await self.ingest.open_producer(producer_id, scope)
        session = StreamSession(producer_id, opened.epoch)
        self.registry.register(session)
        try:
            if self.announce is not None:
                self.announce(producer_id, opened.epoch)
            yield session, opened
        finally:
            self.registry.unregister(session)

    def acks(
        self, incoming: AsyncIterator[Incoming], session: StreamSession, committed: int
    ) -> AsyncGenerator[Ack, None]:
        """Read, store and ack batches until the agent is done or the lifetime is over.

        Up to max_inflight_batches of this stream are being stored at once
        (they commit in sequence order, possibly together with other
        streams' batches); acks come in sequence order. A batch already
        committed is acked as a duplicate; one that skips ahead ends the
        stream (after the acks of those in flight), as does a newer stream
        of the same producer.
        """
        return _Run(self, incoming, session, committed).acks()


_END = object()


@dataclass
class _Inflight:
    """A batch of this stream being stored (future), or a duplicate to ack (no future)."""

    sequence: int
    size: int
    future: asyncio.Future[WriteResult] | None

    def ready(self) -> bool:
        return self.future is None or self.future.done()

    def ack(self) -> Ack:
        if self.future is None:
            return Ack(self.sequence, None)
        try:
            return Ack(self.sequence, self.future.result())
        except Duplicate:
            return Ack(self.sequence, None)


class _Run:
    """One stream's batches: the reader task, the in-flight window, the acks."""

    def __init__(
        self,
        streams: Streams,
        incoming: AsyncIterator[Incoming],
        session: StreamSession,
        committed: int,
    ) -> None:
        self.ingest = streams.ingest
        self.budget = streams.budget
        self.window = streams.limits.max_inflight_batches
        self.lifetime = streams.limits.lifetime_seconds
        self.closing = streams.closing
        self.incoming = incoming
        self.session = session
        self.expected = committed + 1
        # A hand-over of one batch: the in-flight window below is what
        # bounds a stream, and a full window stops the reader here.
        self.queue: asyncio.Queue[object] = asyncio.Queue(maxsize=1)
        self.inflight: deque[_Inflight] = deque()
        self.getter: asyncio.Task[object] | None = None
        self.reading = True

    async def acks(self) -> AsyncGenerator[Ack, None]:
        reader = asyncio.create_task(self._read())
        superseded_wait = asyncio.create_task(self.session.superseded.wait())
        closing_wait = asyncio.create_task(self.closing.wait())
        deadline = time.monotonic() + self.lifetime
        try:
            while True:
                while self.inflight and self.inflight[0].ready():
                    done = self.inflight.popleft()
                    await self.budget.release(done.size)
                    yield done.ack()
                if not self.reading and not self.inflight and self.queue.empty():
                    return
                item = await self._next(reader, superseded_wait, closing_wait, deadline)
                if item is None:
                    continue
                skipped = await self._take(item)
                if skipped is not None:
                    # Ack what is in flight first, then refuse the gap.
                    while self.inflight:
                        yield await self._drain_one()
                    raise gap(skipped, self.expected)
        finally:
            superseded_wait.cancel()
            closing_wait.cancel()
            await self._close(reader)

    async def _next(
        self,
        reader: asyncio.Task[None],
        superseded_wait: asyncio.Task[bool],
        closing_wait: asyncio.Task[bool],
        deadline: float,
    ) -> object | None:
        """Wait for the next batch, the head of the window, the lifetime or the shutdown;
        the batch or None."""
        waits: set[asyncio.Future[Any]] = {superseded_wait}
        if self.reading:
            waits.add(closing_wait)
        head = self.inflight[0].future if self.inflight else None
        if head is not None:
            waits.add(head)
        if len(self.inflight) < self.window:
            # Draining after the lifetime: no new getter once the queue is empty.
            if self.getter is None and (self.reading or not self.queue.empty()):
                self.getter = asyncio.create_task(self.queue.get())
            if self.getter is not None:
                waits.add(self.getter)
        timeout = max(0.0, deadline - time.monotonic()) if self.reading else None
        finished, _ = await asyncio.wait(
            waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if superseded_wait in finished:
            raise superseded(self.session.producer_id, self.session.newer_epoch)
        if self.reading and (time.monotonic() >= deadline or closing_wait.done()):
            # Stop reading; what was read is still stored and acked.
            self.reading = False
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        if self.getter is None or self.getter not in finished:
            return None
        item = self.getter.result()
        self.getter = None
        return item

    async def _take(self, item: object) -> int | None:
        """Put one item of the queue in flight; the sequence of a batch that skips ahead."""
        if item is _END:
            self.reading = False
            return None
        if isinstance(item, BaseException):
            raise item
        assert isinstance(item, Incoming)
        if item.sequence < self.expected:
            self.inflight.append(_Inflight(item.sequence, item.size, None))
            return None
        if item.sequence > self.expected:
            await self.budget.release(item.size)
            return item.sequence
        try:
            position = StreamPosition(self.session.producer_id, self.session.epoch, item.sequence)
            prepared = await self.ingest.prepare(item.decode(), position)
        except BaseException:
            await self.budget.release(item.size)
            raise
        self.inflight.append(_Inflight(item.sequence, item.size, self.ingest.submit(prepared)))
        self.expected += 1
        return None

    async def _drain_one(self) -> Ack:
        done = self.inflight.popleft()
        if done.future is not None:
            await asyncio.wait({done.future})
        await self.budget.release(done.size)
        return done.ack()

    async def _read(self) -> None:
        try:
            async for item in self.incoming:
                # Waiting here stops reading the stream: flow control pushes back.
                await self.budget.acquire(item.size)
                try:
                    await self.queue.put(item)
                except BaseException:
                    await self.budget.release(item.size)
                    raise
            await self.queue.put(_END)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bad message, or the transport failed under us
            await self.queue.put(error)

    async def _close(self, reader: asyncio.Task[None]) -> None:
        if self.getter is not None:
            self.getter.cancel()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader
        for pending in self.inflight:
            await self.budget.release(pending.size)
        while not self.queue.empty():
            left = self.queue.get_nowait()
            if isinstance(left, Incoming):
                await self.budget.release(left.size)
