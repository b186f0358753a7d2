"""Telling the rest of Maestro what the registry changed, after the change commits.

The registry knows nothing of who listens (app.py hands it a sink); a sink
that fails is logged and the write stands: the feed is told of a change
right after its commit, so a process that dies in between loses that one
event, never the write.
"""

from __future__ import annotations

import logging

from maestro_grpc.registry.outward import ChangeSink, RegistryChange

log = logging.getLogger("maestro.registry.changes")


async def no_sink(change: RegistryChange) -> None:
    """Nobody listens (a registry built without a feed)."""


async def announce(sink: ChangeSink, change: RegistryChange) -> None:
    try:
        await sink(change)
    except Exception as error:  # a listener's trouble is not the writer's
        log.warning("could not tell followers of %s: %s", change.kind, error)
