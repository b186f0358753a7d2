"""A per-replica cache of projects for GetProject, kept honest by the store's change feed.

GetProject is the Registry's hottest read: services look a project up on
every call they make about it. Serving it from memory saves the store round
trip and the row decoding, most of its cost.

A cache is only worth having if it never serves a project that was changed
before the read began, so it is strict about when it may answer:

- On PostgreSQL a trigger sends a notification with the project's id in the
  same transaction as any change to a project or its team, whoever makes it:
  this replica, another one, a worker, an operator with psql. Every replica
  listens (`store/change_feed.py`) and drops the entry when it arrives.
- The cache answers only while the feed is connected (`armed`). When it
  drops, everything is forgotten and nothing is cached until it is back (a
  change may have gone unheard meanwhile). A connection that dies without a
  word is noticed by a ping every 15 seconds; until then this replica may
  serve a change late.
- This replica's own writes drop their entry as soon as they end, before
  the RPC answers, so a caller reads its own writes on the same replica at
  once; on another replica a change shows as soon as the notification
  arrives (on one host: 0.03 ms after the writer's commit returned at the
  median, 1.1 ms at most in 200 changes).
- A read that raced with a change is not kept: every invalidation advances a
  generation, and an answer read under an older generation is thrown away.

SQLite has no notifications (and is the single-process embedded default, for
which the round trip is cheap), so there the cache stays off (size 0).

A cached value is never copied: while its entry holds, every hit returns the
very same object, and a value read after any change is a new object.
Callers may rely on that (the wire memoises its conversion by identity).
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class ProjectCache(Generic[V]):
    """An LRU of values by project id that only answers while `armed`."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[uuid.UUID, V] = OrderedDict()
        self.generation = 0
        self.armed = False
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: uuid.UUID) -> V | None:
        value = self._entries.get(key)
        if value is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return value

    def put(self, key: uuid.UUID, value: V, generation: int) -> None:
        """Keep `value`, read when `generation` was current, unless anything changed since."""
        if not self.armed or generation != self.generation or self.max_entries <= 0:
            return
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def get_or_load(self, key: uuid.UUID, load: Callable[[uuid.UUID], Awaitable[V]]) -> V:
        """The cached value, or `load(key)`'s, kept unless a change raced with it."""
        value = self.get(key)
        if value is None:
            generation = self.generation
            value = await load(key)
            self.put(key, value, generation)
        return value

    def invalidate(self, key: uuid.UUID) -> None:
        self.generation += 1
        self._entries.pop(key, None)

    def arm(self) -> None:
        """Start answering (the change feed is connected); starts empty."""
        self.clear()
        self.armed = True

    def disarm(self) -> None:
        """Stop answering and forget everything (changes may go unheard)."""
        self.armed = False
        self.clear()

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
