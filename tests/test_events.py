"""The in-process event bus: fan-out, unsubscribe, and dropping a slow subscriber."""

from __future__ import annotations

import asyncio

import pytest

from maestro_grpc.events import InProcessBus, SlowSubscriber


async def test_fan_out_to_every_subscriber() -> None:
    bus = InProcessBus()
    first = await bus.subscribe("p1")
    second = await bus.subscribe("p1")
    other = await bus.subscribe("p2")
    await bus.publish("p1", b"hello")
    await bus.unsubscribe(first)
    await bus.unsubscribe(second)
    await bus.unsubscribe(other)
    assert [m async for m in first] == [b"hello"]
    assert [m async for m in second] == [b"hello"]
    assert [m async for m in other] == []


async def test_slow_subscriber_is_dropped_not_waited_for() -> None:
    bus = InProcessBus()
    slow = await bus.subscribe("p", max_queue=3)
    for i in range(10):  # the publisher never blocks
        await asyncio.wait_for(bus.publish("p", str(i).encode()), timeout=1)
    with pytest.raises(SlowSubscriber):
        async for _ in slow:
            pass
    await bus.close()


async def test_publishers_learn_whether_anyone_listens_under_a_prefix() -> None:
    bus = InProcessBus()
    assert not bus.may_have_subscribers()
    producers = await bus.subscribe("maestro:metrics:producers")
    # Somebody listens, but not to any project's feed: writers may skip publishing.
    assert bus.may_have_subscribers("maestro:")
    assert not bus.may_have_subscribers("maestro:metrics:feed:")
    watcher = await bus.subscribe("maestro:metrics:feed:42")
    assert bus.may_have_subscribers("maestro:metrics:feed:")
    await bus.unsubscribe(watcher)
    assert not bus.may_have_subscribers("maestro:metrics:feed:")
    await bus.unsubscribe(producers)
    assert not bus.may_have_subscribers()
