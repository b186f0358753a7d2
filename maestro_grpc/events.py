"""Pub/sub between the writers and the watchers of the whole deployment.

`InProcessBus` serves one process (the embedded default); a Redis-backed bus
(`MAESTRO_REDIS_URL`) carries the same messages between replicas. A
subscriber has a bounded queue: one that cannot keep up is cut off
(`SlowSubscriber`) rather than slowing the publisher down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Protocol


class SlowSubscriber(Exception):
    """The subscriber's queue overflowed; it was dropped."""


class Subscription:
    """An async iterator of the payloads published on one channel."""

    def __init__(self, channel: str, max_queue: int) -> None:
        self.channel = channel
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=max_queue)
        self.overflowed = False

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

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        while True:
            item = await self.queue.get()
            if item is None:
                if self.overflowed:
                    raise SlowSubscriber(f"subscriber of {self.channel!r} fell behind")
                return
            yield item


class EventBus(Protocol):
    async def publish(self, channel: str, payload: bytes) -> None: ...

    async def subscribe(self, channel: str, *, max_queue: int = 1000) -> Subscription: ...

    async def unsubscribe(self, subscription: Subscription) -> None: ...

    async def close(self) -> None: ...


class InProcessBus:
    """Fan-out inside one process."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)

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


def create_event_bus(redis_url: str = "") -> EventBus:
    """The bus for this deployment: Redis when configured, else in-process."""
    if redis_url:
        raise NotImplementedError("the Redis event bus lands with issue #3")
    return InProcessBus()
