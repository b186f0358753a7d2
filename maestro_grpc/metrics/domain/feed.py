"""The live feed: each write's entries, published on the bus, and every project's watchers.

The store is the feed (`store/feed.py`): each write appends, in its own
transaction, one entry per project it touched, under the project's next
sequence. After the commit the entries are published on the event bus,
off the write's path (a `BusSender`); the bus only makes delivery prompt.
A watcher takes what the bus brings, in sequence order, and reads from the
store whatever the bus did not bring within a poll interval: a publish the
bus dropped (down, frozen), one that a replica never made (it died between
its commit and its publish), or everything, while the bus is unreachable.
So a watcher receives every write after its start once, in order, or its
watch ends with an error; it never misses one silently.

What an entry's payload holds is the wire's business (`wire/feed.py`).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import struct
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from maestro_grpc.background import run_every
from maestro_grpc.clock import Clock
from maestro_grpc.errors import NotFound, OutOfRange, ResourceExhausted
from maestro_grpc.events import BusDisconnected, BusSender, EventBus, SlowSubscriber, Subscription
from maestro_grpc.metrics.model import FeedEntry
from maestro_grpc.metrics.store.feed import FeedStore
from maestro_grpc.registry.read import RegistryReader

log = logging.getLogger("maestro.metrics.feed")

# On the bus an entry is its sequence (8 bytes, big-endian), then its payload.
_SEQUENCE = struct.Struct(">q")
# A watcher whose bus subscription failed tries again after this long.
RESUBSCRIBE_SECONDS = 2.0
# Entries one store read returns at most.
READ_LIMIT = 100


def project_channel(prefix: str, project_id: uuid.UUID | str) -> str:
    return f"{prefix}metrics:feed:{project_id}"


def frame(entry: FeedEntry) -> bytes:
    return _SEQUENCE.pack(entry.sequence) + entry.payload


def unframe(data: bytes) -> tuple[int, bytes] | None:
    """(sequence, payload) of a bus message; None for one that is not an entry."""
    if len(data) < _SEQUENCE.size:
        return None
    return int(_SEQUENCE.unpack_from(data)[0]), data[_SEQUENCE.size :]


class Publisher:
    """Hands each committed write's entries to the bus sender: never waits, never fails."""

    def __init__(self, bus: EventBus, sender: BusSender, prefix: str) -> None:
        self.bus = bus
        self.sender = sender
        self.prefix = prefix

    def __call__(self, entries: list[FeedEntry]) -> None:
        for entry in entries:
            channel = project_channel(self.prefix, entry.project_id)
            if self.bus.may_have_subscribers(channel):
                self.sender.send(channel, frame(entry))


@dataclass(frozen=True)
class WatchLimits:
    """Entries a watcher may have waiting on the bus, and how often it checks the store."""

    queue: int
    poll_seconds: float


class Watches:
    """Watchers of projects' feeds (see above), with the errors they end with."""

    def __init__(
        self,
        bus: EventBus,
        prefix: str,
        *,
        registry: RegistryReader,
        feed: FeedStore,
        limits: WatchLimits,
    ) -> None:
        self.bus = bus
        self.prefix = prefix
        self.registry = registry
        self.feed = feed
        self.limits = limits

    @asynccontextmanager
    async def watching(self, project_id: uuid.UUID, after: int = 0) -> AsyncIterator[Watch]:
        """The project's feed after sequence `after` (0: from now) for as long as the block runs.

        A watcher that falls behind the bus ends with RESOURCE_EXHAUSTED; a
        resume point the feed no longer holds is OUT_OF_RANGE.
        """
        if not await self.registry.project_exists(project_id):
            raise NotFound(f"project {project_id} does not exist", reason="PROJECT_NOT_FOUND")
        watch = Watch(self, project_id)
        try:
            await watch.open(after)
            yield watch
        except SlowSubscriber:
            raise ResourceExhausted(
                "this watcher fell behind what arrives and was dropped; read faster, "
                "narrow the filter, or watch again after the last sequence received",
                reason="WATCHER_TOO_SLOW",
            ) from None
        finally:
            await watch.close()


class Watch:
    """One watcher's view of a project's feed: every entry after `start`, once, in order.

    Entries from the bus wait in `held` until those before them are
    delivered. At each poll the project's head is read: what was committed
    by the previous poll and has still not come is read from the store
    (without a bus subscription, whatever was committed is read at once).
    """

    def __init__(self, watches: Watches, project_id: uuid.UUID) -> None:
        self.watches = watches
        self.feed = watches.feed
        self.limits = watches.limits
        self.project_id = project_id
        self.channel = project_channel(watches.prefix, project_id)
        self.subscription: Subscription | None = None
        self.subscribing: asyncio.Task[Subscription] | None = None
        self.resubscribe_at = 0.0
        # The sequence the watch starts after, and the last one delivered.
        self.start = 0
        self.delivered = 0
        # Entries up to this sequence are overdue: read them from the store.
        self.due = 0
        self.last_head = 0
        self.held: dict[int, bytes] = {}

    async def open(self, after: int) -> None:
        # The subscription is made meanwhile: the watch starts at once, from
        # the store, even while the bus is slow to answer, and what the bus
        # brings once subscribed is the same feed.
        self._subscribe()
        head = await self.feed.head(self.project_id)
        if after:
            await self._check_resume(after, head)
            # What was written after it, before the watch began: read now.
            self.delivered, self.due = after, head
        else:
            self.delivered = self.due = head
        self.start = self.delivered
        self.last_head = head

    async def _check_resume(self, after: int, head: int) -> None:
        """A resume point must be the head or within what the feed still holds."""
        if after == head:
            return
        first = await self.feed.first(self.project_id)
        if after < head and first is not None and first <= after + 1:
            return
        raise OutOfRange(
            f"after_sequence {after} is not held: the project's feed holds "
            f"{'nothing' if first is None else f'{first} to {head}'} now; watch from now",
            reason="WATCH_SEQUENCE_OUT_OF_RANGE",
            metadata={"first_sequence": str(first or head + 1), "last_sequence": str(head)},
        )

    async def entries(self) -> AsyncIterator[FeedEntry]:
        """Every entry after `start`, in sequence, for as long as the caller reads."""
        next_poll = time.monotonic() + self.limits.poll_seconds
        while True:
            if self.delivered < self.due:
                async for entry in self._read_store():
                    yield entry
            while (payload := self.held.pop(self.delivered + 1, None)) is not None:
                self.delivered += 1
                yield FeedEntry(self.project_id, self.delivered, payload)
            wait = next_poll - time.monotonic()
            if wait > 0:
                self._hold(await self._from_bus(wait))
                continue
            next_poll = time.monotonic() + self.limits.poll_seconds
            await self._poll()

    async def _poll(self) -> None:
        if self.subscription is None and time.monotonic() >= self.resubscribe_at:
            self._subscribe()
        head = await self.feed.head(self.project_id)
        # What was committed by the last poll had a poll interval to come
        # by bus; without a subscription nothing comes that way.
        self.due = max(self.due, head if self.subscription is None else self.last_head)
        self.last_head = head

    def _hold(self, message: tuple[int, bytes] | None) -> None:
        if message is None:
            return
        sequence, payload = message
        if sequence > self.delivered:
            self.held[sequence] = payload
        if len(self.held) > self.limits.queue:
            # A hole the bus is not filling: read it now.
            self.due = max(self.due, min(self.held) - 1)

    async def _read_store(self) -> AsyncIterator[FeedEntry]:
        while self.delivered < self.due:
            entries = await self.feed.since(self.project_id, self.delivered, READ_LIMIT)
            if not entries or entries[0].sequence != self.delivered + 1:
                raise OutOfRange(
                    f"what followed sequence {self.delivered} is no longer held "
                    "(the watch fell behind the feed's retention); watch again from now",
                    reason="WATCH_SEQUENCE_OUT_OF_RANGE",
                    metadata={"last_sequence": str(self.delivered)},
                )
            for entry in entries:
                self.delivered = entry.sequence
                yield entry
        self.held = {s: p for s, p in self.held.items() if s > self.delivered}

    async def _from_bus(self, wait: float) -> tuple[int, bytes] | None:
        """The next entry the bus brings within `wait` seconds, if any."""
        if self.subscription is None:
            if self.subscribing is not None:
                await asyncio.wait({self.subscribing}, timeout=wait)
                self._subscribed()
            else:
                await asyncio.sleep(wait)
            return None
        try:
            async with asyncio.timeout(wait):
                data = await self.subscription.get()
        except TimeoutError:
            return None
        except BusDisconnected as error:
            log.info("watch of %s goes on from the store: %s", self.project_id, error)
            data = None
        if data is None:  # the bus broke or closed under the subscription
            await self._unsubscribe()
            return None
        return unframe(data)

    def _subscribe(self) -> None:
        """Start subscribing (a bus that is down or frozen fails or times out meanwhile)."""
        if self.subscribing is None:
            self.subscribing = asyncio.create_task(
                self.watches.bus.subscribe(self.channel, max_queue=self.limits.queue),
                # Not the watcher's call: the bus may start tasks of its own.
                context=contextvars.Context(),
            )

    def _subscribed(self) -> None:
        """Take the subscription once made; after a failure, try again later."""
        task = self.subscribing
        if task is None or not task.done():
            return
        self.subscribing = None
        error = task.exception() if not task.cancelled() else None
        if error is None and not task.cancelled():
            self.subscription = task.result()
            return
        log.info("watch of %s reads the store: no event bus (%s)", self.project_id, error)
        self.resubscribe_at = time.monotonic() + RESUBSCRIBE_SECONDS

    async def _unsubscribe(self) -> None:
        subscription, self.subscription = self.subscription, None
        self.resubscribe_at = time.monotonic() + RESUBSCRIBE_SECONDS
        if subscription is not None:
            await self.watches.bus.unsubscribe(subscription)

    async def close(self) -> None:
        if self.subscribing is not None:
            self.subscribing.cancel()
            await asyncio.wait({self.subscribing})
            self._subscribed()
        await self._unsubscribe()


class FeedRetention:
    """Trims entries older than the retention (any replica may; each pass is idempotent)."""

    def __init__(self, feed: FeedStore, clock: Clock, retention: timedelta) -> None:
        self.feed = feed
        self.clock = clock
        self.retention = retention

    async def run_once(self, stop: asyncio.Event | None = None) -> int:
        return await self.feed.trim(self.clock() - self.retention)

    async def run(self) -> None:
        """Trim four times per retention (at least once a minute), for as long as it runs."""
        interval = min(60.0, self.retention.total_seconds() / 4)
        await run_every(self.run_once, interval, asyncio.Event(), what="live feed trim", logger=log)
