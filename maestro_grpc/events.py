"""Pub/sub between the writers and the watchers of the whole deployment.

`InProcessBus` serves one process (the embedded default); a Redis-backed bus
(`MAESTRO_REDIS_URL`) carries the same messages between replicas. A
subscriber has a bounded queue: one that cannot keep up is cut off
(`SlowSubscriber`) rather than slowing the publisher down.

The bus is best effort, and nothing on a request's path waits on it: every
Redis operation has a timeout, and writers hand their messages to a
`BusSender`, which publishes them from a task of its own and drops what the
bus cannot take. Whoever needs every message must not rely on the bus alone
(the live feed reads what it missed from the store: `metrics/domain/feed.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

log = logging.getLogger("maestro.events")


class SlowSubscriber(Exception):
    """The subscriber's queue overflowed; it was dropped."""


class BusDisconnected(Exception):
    """The bus lost its connection: messages may have been missed; subscribe again."""


class Subscription:
    """An async iterator of the payloads published on one channel."""

    def __init__(self, channel: str, max_queue: int) -> None:
        self.channel = channel
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=max_queue)
        self.overflowed = False
        self.error: BaseException | None = None

    def offer(self, payload: bytes) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(payload)
        except asyncio.QueueFull:
            self.overflowed = True
            # Make room for the end marker so the reader wakes up and stops.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)

    def close(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)

    def fail(self, error: BaseException) -> None:
        """End the iteration with `error` (the bus broke down under it)."""
        if self.overflowed or self.error is not None:
            return
        self.error = error
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)

    async def get(self) -> bytes | None:
        """The next payload; None once closed. Raises SlowSubscriber, or the bus's error."""
        item = await self.queue.get()
        if item is None:
            # Keep the end marker for the next call (there is room: one was taken).
            self.queue.put_nowait(None)
            if self.overflowed:
                raise SlowSubscriber(f"subscriber of {self.channel!r} fell behind")
            if self.error is not None:
                raise self.error
        return item

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        while True:
            item = await self.queue.get()
            if item is None:
                if self.overflowed:
                    raise SlowSubscriber(f"subscriber of {self.channel!r} fell behind")
                if self.error is not None:
                    raise self.error
                return
            yield item


class EventBus(Protocol):
    def may_have_subscribers(self, prefix: str = "") -> bool:
        """False only when nobody anywhere listens on a channel starting with
        `prefix` (publishers may then skip encoding)."""
        ...

    async def publish(self, channel: str, payload: bytes) -> None: ...

    async def subscribe(self, channel: str, *, max_queue: int = 1000) -> Subscription: ...

    async def unsubscribe(self, subscription: Subscription) -> None: ...

    async def close(self) -> None: ...


class InProcessBus:
    """Fan-out inside one process."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)

    def may_have_subscribers(self, prefix: str = "") -> bool:
        return any(
            subs and channel.startswith(prefix) for channel, subs in self._subscribers.items()
        )

    async def publish(self, channel: str, payload: bytes) -> None:
        for subscription in list(self._subscribers.get(channel, ())):
            subscription.offer(payload)

    async def subscribe(self, channel: str, *, max_queue: int = 1000) -> Subscription:
        subscription = Subscription(channel, max_queue)
        self._subscribers[channel].add(subscription)
        return subscription

    async def unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.channel)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.channel]
        subscription.close()

    async def close(self) -> None:
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                subscription.close()
        self._subscribers.clear()


class RedisBus:
    """Fan-out between replicas through Redis pub/sub.

    One PUBLISH per message; one pub/sub connection per process, subscribed
    to the channels its local subscribers want, and one reader task that
    hands each message to those subscribers without ever waiting on them
    (a full subscriber queue drops that subscriber). If the connection is
    lost, every subscriber is ended with BusDisconnected (they may have
    missed messages) and the next subscribe reconnects.

    No operation waits on Redis longer than `timeout` seconds: a Redis that
    is down fails fast, one that is frozen (SIGSTOP, a dead peer on a live
    TCP connection) times out.
    """

    def __init__(self, url: str, *, timeout: float = 1.0) -> None:
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.url = url
        self.timeout = timeout
        # No retries inside a call: its caller's timeout is the whole budget.
        self.client: Any = aioredis.Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)
        self._confirm: dict[str, asyncio.Future[None]] = {}
        self._lock = asyncio.Lock()

    def may_have_subscribers(self, prefix: str = "") -> bool:
        # Watchers may sit on any replica.
        return True

    async def publish(self, channel: str, payload: bytes) -> None:
        async with asyncio.timeout(self.timeout):
            await self.client.publish(channel, payload)

    async def subscribe(self, channel: str, *, max_queue: int = 1000) -> Subscription:
        subscription = Subscription(channel, max_queue)
        async with asyncio.timeout(self.timeout * 2), self._lock:
            first = not self._subscribers.get(channel)
            self._subscribers[channel].add(subscription)
            if first:
                if self._pubsub is None:
                    self._pubsub = self.client.pubsub()
                confirmed = asyncio.get_running_loop().create_future()
                self._confirm[channel] = confirmed
                try:
                    await self._pubsub.subscribe(channel)
                    self._ensure_reader()
                    # Only once Redis confirms is every later PUBLISH seen.
                    async with asyncio.timeout(self.timeout):
                        await asyncio.shield(confirmed)
                except BaseException:
                    self._subscribers[channel].discard(subscription)
                    self._confirm.pop(channel, None)
                    raise
        return subscription

    def _ensure_reader(self) -> None:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(self._pubsub), name="redis-bus-reader")

    async def _read(self, pubsub: Any) -> None:
        try:
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                kind = message["type"]
                channel = message["channel"]
                channel = channel.decode() if isinstance(channel, bytes) else channel
                if kind == "message":
                    for subscription in list(self._subscribers.get(channel, ())):
                        subscription.offer(message["data"])
                elif kind == "subscribe":
                    confirmed = self._confirm.pop(channel, None)
                    if confirmed is not None and not confirmed.done():
                        confirmed.set_result(None)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("event bus connection lost: %s", error)
            await self._broken(error)

    async def _broken(self, error: Exception) -> None:
        lost = BusDisconnected(f"the event bus connection was lost: {error}")
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                subscription.fail(lost)
        self._subscribers.clear()
        for confirmed in self._confirm.values():
            if not confirmed.done():
                confirmed.set_exception(lost)
        self._confirm.clear()
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def unsubscribe(self, subscription: Subscription) -> None:
        # Not under the lock: a subscribe that waits on a frozen Redis must
        # not hold up the subscribers that leave.
        subscription.close()
        channel = subscription.channel
        subscribers = self._subscribers.get(channel)
        if subscribers is None:
            return
        subscribers.discard(subscription)
        if subscribers or self._pubsub is None:
            return
        del self._subscribers[channel]
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.timeout):
                await self._pubsub.unsubscribe(channel)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                subscription.close()
        self._subscribers.clear()
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.timeout):
                    await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.timeout):
                await self.client.aclose()


def create_event_bus(redis_url: str = "", timeout: float = 1.0) -> EventBus:
    """The bus for this deployment: Redis when configured, else in-process."""
    if redis_url:
        return RedisBus(redis_url, timeout=timeout)
    return InProcessBus()


class BusSender:
    """Publishes on the bus off the caller's path: a bounded queue and one task.

    `send` never waits and never fails. A message that does not fit in the
    queue, or that the bus refuses or does not take within its timeout, is
    dropped; after a failure, what is sent during `pause` seconds is dropped
    unsent, so that a dead or frozen bus costs one timeout per pause rather
    than one per message. `dropped` counts what never reached the bus.
    """

    def __init__(self, bus: EventBus, *, queue: int = 10_000, pause: float = 1.0) -> None:
        self.bus = bus
        self.pause = pause
        self.queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(maxsize=queue)
        self.dropped = 0
        self._paused_until = 0.0
        self._failing = False

    def send(self, channel: str, payload: bytes) -> None:
        if time.monotonic() < self._paused_until:
            self.dropped += 1
            return
        try:
            self.queue.put_nowait((channel, payload))
        except asyncio.QueueFull:
            self.dropped += 1

    async def run(self) -> None:
        """Publish what is sent, for as long as the process runs."""
        while True:
            channel, payload = await self.queue.get()
            if time.monotonic() < self._paused_until:
                self.dropped += 1
                continue
            try:
                await self.bus.publish(channel, payload)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.dropped += 1
                self._paused_until = time.monotonic() + self.pause
                if not self._failing:
                    log.warning("event bus publish failed (%s); dropping messages meanwhile", error)
                self._failing = True
            else:
                if self._failing:
                    log.warning("event bus publishes again (%d messages dropped)", self.dropped)
                self._failing = False
