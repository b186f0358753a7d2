"""Fault hooks for the tests of what survives a crash; inert unless their variable is set.

`MAESTRO_FAULT_EXIT_AT_FEED_PUBLISH=N` ends the process at once (`os._exit`:
no cleanup, no flush, as SIGKILL would) where it would publish its N-th
live-feed message: after that write committed and was (perhaps) acked, and
before any other replica heard of it. No setting names it and nothing in
production sets it; `tests/robustness/test_feed_replicas.py` does.

`MAESTRO_FAULT_EXIT_BEFORE_FEED_RELAY=1` ends the process the same way where
a write would move the activity feed's outbox into the feed: after a
registry change (or a moved prediction) committed with its note, before any
event was recorded (the periodic sweep is unaffected). `tests/people/test_feed_outbox.py` sets it.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

from maestro_grpc.events import EventBus, Subscription

EXIT_AT_FEED_PUBLISH = "MAESTRO_FAULT_EXIT_AT_FEED_PUBLISH"
EXIT_BEFORE_FEED_RELAY = "MAESTRO_FAULT_EXIT_BEFORE_FEED_RELAY"
# The exit status of a process the hook ended, so that a test can tell it
# from any other death.
EXIT_STATUS = 86
# What the live feed's channels hold (metrics/domain/feed.py names them).
FEED_CHANNEL_PART = "metrics:feed:"


class ExitAtFeedPublish:
    """A bus that ends the process instead of publishing its `at`-th feed message."""

    def __init__(self, bus: EventBus, at: int) -> None:
        self.bus = bus
        self.at = at
        self.published = 0

    def may_have_subscribers(self, prefix: str = "") -> bool:
        return self.bus.may_have_subscribers(prefix)

    async def publish(self, channel: str, payload: bytes) -> None:
        if FEED_CHANNEL_PART in channel:
            self.published += 1
            if self.published >= self.at:
                os._exit(EXIT_STATUS)
        await self.bus.publish(channel, payload)

    async def subscribe(self, channel: str, *, max_queue: int = 1000) -> Subscription:
        return await self.bus.subscribe(channel, max_queue=max_queue)

    async def unsubscribe(self, subscription: Subscription) -> None:
        await self.bus.unsubscribe(subscription)

    async def close(self) -> None:
        await self.bus.close()


def with_faults(bus: EventBus) -> EventBus:
    """`bus`, or `bus` under the hook the environment asks for."""
    at = os.environ.get(EXIT_AT_FEED_PUBLISH, "")
    if not at:
        return bus
    return ExitAtFeedPublish(bus, int(at))


def relay_with_faults(relay: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """`relay`, or one that ends the process instead, as the environment asks."""
    if not os.environ.get(EXIT_BEFORE_FEED_RELAY, ""):
        return relay

    async def dying() -> None:
        os._exit(EXIT_STATUS)

    return dying
