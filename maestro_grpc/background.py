"""Periodic background work: one loop that every worker and in-server job shares."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("maestro.background")


def worker_owner() -> str:
    """Who holds a lease: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


# After `stop` is set, a pass in progress has this long to end by itself
# (work checks `stop` between its jobs) before it is cancelled: workers stop
# well inside Kubernetes' 30 s grace, whatever their backlog.
STOP_GRACE_SECONDS = 3.0


async def _until_done_or_stopped(task: asyncio.Future[int], stop: asyncio.Event) -> None:
    """Wait for the pass; once `stop` is set, at most STOP_GRACE_SECONDS more."""
    stopping = asyncio.ensure_future(stop.wait())
    either: set[asyncio.Future[Any]] = {task, stopping}
    try:
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not task.done():
        await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)


async def run_every(
    work: Callable[[asyncio.Event], Awaitable[int]],
    interval: float,
    stop: asyncio.Event,
    *,
    what: str,
    logger: logging.Logger = log,
) -> None:
    """Run `work(stop)` every `interval` seconds until `stop` is set; a failed pass is
    retried. A pass should return soon after `stop` is set; past STOP_GRACE_SECONDS
    it is cancelled."""
    while not stop.is_set():
        task = asyncio.ensure_future(work(stop))
        try:
            await _until_done_or_stopped(task, stop)
        except asyncio.CancelledError:
            # Cancelled itself (the process closes): the pass goes with it.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            raise
        if not task.done():
            logger.warning(
                "%s: still running %.0f s after stop; cancelled", what, STOP_GRACE_SECONDS
            )
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return
        try:
            done = task.result()
            if done:
                logger.info("%s: %d done", what, done)
        except Exception:
            logger.exception("%s failed; retrying", what)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
