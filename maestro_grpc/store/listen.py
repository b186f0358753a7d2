"""A PostgreSQL LISTEN connection that stays up, for every per-replica cache's invalidations.

A trigger NOTIFYs a channel in the writing transaction (so a notification
is delivered when, and only if, the change commits); each replica LISTENs on
a connection of its own. A cache may answer only while its feed is up:
`on_up` arms it, `on_down` disarms it (a notification may have been missed
meanwhile). A connection that dies without a word (a half-open TCP
connection) is noticed by a ping every `ping_interval` seconds. Lost
connections are retried with capped exponential backoff and jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

log = logging.getLogger("maestro.store.listen")


class ChangeFeed:
    """LISTEN on `channel` for as long as `run()` runs."""

    def __init__(
        self,
        url: str,
        channel: str,
        on_payload: Callable[[str], None],
        *,
        on_up: Callable[[], None],
        on_down: Callable[[], None],
        application_name: str,
        max_backoff: float = 30.0,
        ping_interval: float = 15.0,
    ) -> None:
        parsed = make_url(url)
        self.dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        self.channel = channel
        self.on_payload = on_payload
        self.on_up = on_up
        self.on_down = on_down
        self.application_name = application_name
        self.max_backoff = max_backoff
        self.ping_interval = ping_interval

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self.on_payload(payload)

    async def run(self) -> None:
        backoff = 0.5
        while True:
            try:
                await self._listen()
                log.warning("change feed %s lost; its cache is off until it is back", self.channel)
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("change feed %s unavailable (%s); retrying", self.channel, error)
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, self.max_backoff)

    async def _listen(self) -> None:
        """LISTEN until the connection is lost; armed only meanwhile."""
        lost = asyncio.Event()
        conn = await asyncpg.connect(
            self.dsn, timeout=5, server_settings={"application_name": self.application_name}
        )
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(self.channel, self._on_notify)
            self.on_up()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), timeout=self.ping_interval)
                if not lost.is_set():
                    await conn.execute("SELECT 1", timeout=5)
        finally:
            self.on_down()
            if not conn.is_closed():
                with contextlib.suppress(Exception):
                    await asyncio.shield(conn.close(timeout=2))
