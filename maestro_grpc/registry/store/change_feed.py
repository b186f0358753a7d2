"""The projects' change feed: PostgreSQL's LISTEN/NOTIFY, kept connected.

A trigger (migration 0005) sends `NOTIFY maestro_project_changed` with the
project's id in the same transaction as any change to a project or its team,
whoever makes it. `ChangeListener` keeps a LISTEN connection of its own and
tells what it hears to a `ChangeSink` (the project cache): each change, and
whether it is connected at all, since while it is not a change may go
unheard.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from typing import Any, Protocol

import asyncpg
from sqlalchemy.engine import make_url

from maestro_grpc.store.db import Database

log = logging.getLogger("maestro.registry.cache")

CHANNEL = "maestro_project_changed"
# How the feed's connection shows in pg_stat_activity.
APPLICATION_NAME = "maestro-project-change-feed"
# The artifacts' feed (migration 0015): the same rules, for GetArtifact's cache.
ARTIFACT_CHANNEL = "maestro_artifact_changed"
ARTIFACT_APPLICATION_NAME = "maestro-artifact-change-feed"


def available(db: Database) -> bool:
    """Whether the store has a change feed: PostgreSQL does; SQLite has no notifications
    (and is the single-process embedded default, for which a round trip is cheap)."""
    return db.is_postgres


class ChangeSink(Protocol):
    """What hears the feed."""

    def arm(self) -> None:
        """The feed is connected: every change from now on will be heard."""

    def disarm(self) -> None:
        """The feed is lost: changes may go unheard until it is back."""

    def invalidate(self, key: uuid.UUID) -> None:
        """Project `key` changed."""

    def clear(self) -> None:
        """Something changed that names no project of ours."""


class ChangeListener:
    """Keeps a LISTEN connection to PostgreSQL and feeds the sink's invalidations.

    Reconnects with capped exponential backoff and jitter; the sink is armed
    only while connected. A connection that dies without a word (a
    half-open TCP connection) is noticed by a ping every `ping_interval`.
    """

    def __init__(
        self,
        url: str,
        sink: ChangeSink,
        *,
        max_backoff: float = 30.0,
        ping_interval: float = 15.0,
        channel: str = CHANNEL,
        application_name: str = APPLICATION_NAME,
    ) -> None:
        parsed = make_url(url)
        self.channel = channel
        self.application_name = application_name
        self.dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        self.sink = sink
        self.max_backoff = max_backoff
        self.ping_interval = ping_interval

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            key = uuid.UUID(payload)
        except ValueError:
            self.sink.clear()  # not one of ours: be safe
            return
        self.sink.invalidate(key)

    async def run(self) -> None:
        backoff = 0.5
        while True:
            try:
                await self._listen()
                log.warning("%s lost; its cache reads the store until it is back", self.channel)
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("%s unavailable (%s); retrying", self.channel, error)
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, self.max_backoff)

    async def _listen(self) -> None:
        """LISTEN until the connection is lost; the sink is armed only meanwhile."""
        lost = asyncio.Event()
        conn = await asyncpg.connect(
            self.dsn, timeout=5, server_settings={"application_name": self.application_name}
        )
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(self.channel, self._on_notify)
            self.sink.arm()
            # Notice a half-open connection too: ping now and then.
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), timeout=self.ping_interval)
                if not lost.is_set():
                    await conn.execute("SELECT 1", timeout=5)
        finally:
            self.sink.disarm()
            if not conn.is_closed():
                with contextlib.suppress(Exception):
                    await asyncio.shield(conn.close(timeout=2))
