"""Answers built once per record: GetProject's response, reused while the record is.

The project cache hands out the very same record object on every hit, and a
new object after any change (domain/project_cache.py). So the response built
from a record can be reused for as long as the domain returns that object:
keyed by the record's identity, the memo needs no invalidation of its own,
and every rule of when the cache may answer stays the domain's.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

R = TypeVar("R")
A = TypeVar("A")


class AnswerMemo(Generic[R, A]):
    """The answer last built for each id, with the record it was built from (an LRU)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[uuid.UUID, tuple[R, A]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def answer(self, key: uuid.UUID, record: R, build: Callable[[R], A]) -> A:
        """`build(record)`, or what it returned before for this very record object."""
        if self.max_entries <= 0:
            return build(record)
        kept = self._entries.get(key)
        if kept is not None and kept[0] is record:
            self._entries.move_to_end(key)
            return kept[1]
        answer = build(record)
        self._entries[key] = (record, answer)
        self._entries.move_to_end(key)
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return answer
