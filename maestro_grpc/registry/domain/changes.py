"""Telling the rest of Maestro what the registry changed, in the change's own transaction.

The registry knows nothing of who listens (app.py hands it a `RegistryFeed`).
Each write hands its store the notes its result makes (`notes`), which the
store appends to the outbox in the write's transaction: the change and its
note commit together, so a process that dies after the commit loses no
event (a sweep relays it later). After the commit, `relay` moves the notes
into the feed at once; a relay that fails is logged and the write stands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from maestro_grpc.registry.outward import RegistryChange, RegistryFeed, change_note

log = logging.getLogger("maestro.registry.changes")

T = TypeVar("T")


def notes(
    feed: RegistryFeed | None, make: Callable[[T], Sequence[RegistryChange]]
) -> Callable[[T], list[dict[str, Any]]] | None:
    """What the store appends for a write's result (None: nobody listens). The acting
    person is read now, in the caller's call."""
    if feed is None:
        return None
    actor = feed.actor()
    return lambda result: [change_note(c, actor) for c in make(result)]


async def relay(feed: RegistryFeed | None) -> None:
    if feed is None:
        return
    try:
        await feed.relay()
    except Exception as error:  # a listener's trouble is not the writer's
        log.warning("could not move the registry's changes into the feed yet: %s", error)
