"""Producer announcements: a producer's newer stream on one replica ends its older ones.

Exactly-once ingest holds by the store alone (each stream's epoch is checked
in the write transaction); announcements make it prompt. When a producer
opens a stream, the replica that accepted it publishes "producer epoch" on a
bus channel all replicas listen to, and each replica supersedes its own
streams of that producer with an older epoch. A broken bus ends the
listener; the next announcement starts a new one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from maestro_grpc.events import EventBus

log = logging.getLogger("maestro.metrics")


class Superseding(Protocol):
    def supersede(self, producer_id: str, epoch: int) -> None: ...


def producers_channel(prefix: str) -> str:
    return f"{prefix}metrics:producers"


Spawn = Callable[[Coroutine[Any, Any, Any], str], "asyncio.Task[Any]"]


class ProducerAnnouncements:
    """Publishes this replica's new streams and listens for other replicas' (see above)."""

    def __init__(self, bus: EventBus, prefix: str, streams: Superseding, spawn: Spawn) -> None:
        self.bus = bus
        self.channel = producers_channel(prefix)
        self.streams = streams
        self.spawn = spawn
        self._listener: asyncio.Task[Any] | None = None

    async def announce(self, producer_id: str, epoch: int) -> None:
        if self._listener is None or self._listener.done():
            # (Re)start listening: a bus that broke ended the last listener.
            self._listener = self.spawn(self._listen(), "metrics-producer-announcements")
        await self.bus.publish(self.channel, f"{producer_id} {epoch}".encode())

    async def _listen(self) -> None:
        subscription = await self.bus.subscribe(self.channel, max_queue=10_000)
        try:
            async for payload in subscription:
                producer_id, _, epoch = payload.decode().rpartition(" ")
                self.streams.supersede(producer_id, int(epoch))
        except Exception as error:  # the bus broke: the store still enforces epochs
            log.warning("producer announcements stopped: %s", error)
        finally:
            await self.bus.unsubscribe(subscription)
