"""The live feed: what each write stored, published on the event bus, and watched per project.

The bus carries one message per project and write, on the project's
channel, so every replica's watchers see every replica's writes. What a
message holds is the wire's business: the composition root hands the
Publisher its `encode`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from maestro_grpc.errors import NotFound, ResourceExhausted, Unavailable
from maestro_grpc.events import BusDisconnected, EventBus, SlowSubscriber, Subscription
from maestro_grpc.metrics.model import WriteResult
from maestro_grpc.registry.read import RegistryReader

# Per project, the bytes to publish for what a write stored.
Encode = Callable[[WriteResult], dict[uuid.UUID, bytes]]


def project_channel(prefix: str, project_id: uuid.UUID | str) -> str:
    return f"{prefix}metrics:project:{project_id}"


class Publisher:
    """Publishes each write's stored rows on the bus (the Ingestor's feed)."""

    def __init__(self, bus: EventBus, prefix: str, encode: Encode) -> None:
        self.bus = bus
        self.prefix = prefix
        self.encode = encode

    async def __call__(self, result: WriteResult) -> None:
        if not self.bus.may_have_subscribers(project_channel(self.prefix, "")):
            return  # nobody watches: skip the encoding
        for project, payload in self.encode(result).items():
            await self.bus.publish(project_channel(self.prefix, project), payload)


class Watches:
    """Subscriptions of watchers to a project's feed, with the bus's failures as errors."""

    def __init__(self, bus: EventBus, prefix: str, *, registry: RegistryReader, queue: int) -> None:
        self.bus = bus
        self.prefix = prefix
        self.registry = registry
        self.queue = queue

    @asynccontextmanager
    async def watching(self, project_id: uuid.UUID) -> AsyncIterator[Subscription]:
        """The project's feed, from now on, for as long as the block runs.

        A watcher that falls behind ends with RESOURCE_EXHAUSTED, a broken
        bus with UNAVAILABLE (both: watch again).
        """
        if not await self.registry.project_exists(project_id):
            raise NotFound(f"project {project_id} does not exist", reason="PROJECT_NOT_FOUND")
        subscription = await self._subscribe(project_id)
        try:
            yield subscription
        except SlowSubscriber:
            raise ResourceExhausted(
                "this watcher fell behind what arrives and was dropped; read faster, "
                "narrow the filter, or watch again",
                reason="WATCHER_TOO_SLOW",
            ) from None
        except BusDisconnected as error:
            raise Unavailable(
                f"{error}; watch again", reason="EVENT_BUS_UNAVAILABLE", retry_delay_seconds=1.0
            ) from None
        finally:
            await self.bus.unsubscribe(subscription)

    async def _subscribe(self, project_id: uuid.UUID) -> Subscription:
        try:
            return await self.bus.subscribe(
                project_channel(self.prefix, project_id), max_queue=self.queue
            )
        except (BusDisconnected, OSError, ConnectionError, TimeoutError) as error:
            raise _bus_unavailable(error) from None
        except Exception as error:
            # redis-py's own errors do not derive from OSError.
            if type(error).__module__.startswith("redis"):
                raise _bus_unavailable(error) from None
            raise


def _bus_unavailable(error: BaseException) -> Unavailable:
    return Unavailable(
        f"the event bus is unreachable ({error}); watch again later",
        reason="EVENT_BUS_UNAVAILABLE",
        retry_delay_seconds=1.0,
    )
