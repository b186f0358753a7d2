"""Periodic background work: one loop that every worker and in-server job shares."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable

log = logging.getLogger("maestro.background")


def worker_owner() -> str:
    """Who holds a lease: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def run_every(
    work: Callable[[], Awaitable[int]],
    interval: float,
    stop: asyncio.Event,
    *,
    what: str,
    logger: logging.Logger = log,
) -> None:
    """Run `work` every `interval` seconds until `stop` is set; a failed pass is retried."""
    while not stop.is_set():
        try:
            done = await work()
            if done:
                logger.info("%s: %d done", what, done)
        except Exception:
            logger.exception("%s failed; retrying", what)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
