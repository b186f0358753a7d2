"""Producer announcements: a producer's newer stream on one replica ends its older ones.

Exactly-once ingest holds by the store alone (each stream's epoch is checked
in the write transaction); announcements make it prompt. When a producer
opens a stream, the replica that accepted it publishes "producer epoch" on a
bus channel all replicas listen to, and each replica supersedes its own
streams of that producer with an older epoch. An announcement never holds
up the open: it is handed to the bus sender, and lost when the bus is down
(an older stream elsewhere then ends at its next batch, refused by the
store). The listener outlives a broken bus: it subscribes again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from maestro_grpc.events import BusSender, EventBus

log = logging.getLogger("maestro.metrics")

# How long the listener waits before subscribing again after the bus failed.
RETRY_SECONDS = 2.0


class Superseding(Protocol):
    def supersede(self, producer_id: str, epoch: int) -> None: ...


def producers_channel(prefix: str) -> str:
    return f"{prefix}metrics:producers"


Spawn = Callable[[Coroutine[Any, Any, Any], str], "asyncio.Task[Any]"]


class ProducerAnnouncements:
    """Publishes this replica's new streams and listens for other replicas' (see above)."""

    def __init__(
        self, bus: EventBus, sender: BusSender, prefix: str, streams: Superseding, spawn: Spawn
    ) -> None:
        self.bus = bus
        self.sender = sender
        self.channel = producers_channel(prefix)
        self.streams = streams
        self.spawn = spawn
        self._listener: asyncio.Task[Any] | None = None

    def announce(self, producer_id: str, epoch: int) -> None:
        if self._listener is None:
            # Listening starts with this replica's first stream.
            self._listener = self.spawn(self._listen(), "metrics-producer-announcements")
        self.sender.send(self.channel, f"{producer_id} {epoch}".encode())

    async def _listen(self) -> None:
        failing = False
        while True:
            try:
                subscription = await self.bus.subscribe(self.channel, max_queue=10_000)
            except Exception as error:  # the store still enforces epochs meanwhile
                if not failing:
                    log.warning("producer announcements unavailable (%s); retrying", error)
                failing = True
                await asyncio.sleep(RETRY_SECONDS)
                continue
            failing = False
            try:
                async for payload in subscription:
                    producer_id, _, epoch = payload.decode().rpartition(" ")
                    self.streams.supersede(producer_id, int(epoch))
            except Exception as error:
                log.warning("producer announcements stopped (%s); resubscribing", error)
            finally:
                await self.bus.unsubscribe(subscription)
            await asyncio.sleep(RETRY_SECONDS)
