"""The feed's transactional outbox, as the metric feed keeps its own (migration 0010).

A write that followers should hear of (a registry change, a prediction that
moved) appends its note here in its own transaction: the note commits with
the write, or neither does. A relay (people/domain/activity.py) turns notes
into activity events and deletes them in one transaction of its own: right
after the write on the same replica, and by a periodic sweep for the notes
of a process that died in between. So an event is never lost, and never
recorded twice (its dedupe key holds across relays, of any replica).

An experiment's verdict needs no note: no write makes it. It is found by an
analysis, and every analysis finds it again, under the same dedupe key
(prediction/domain/verdicts.py); one cut short before it recorded the event
is made good by the next.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.store.schema import feed_outbox

T = TypeVar("T")
# What a write's result makes worth telling: a note's payload per event (none: nothing).
Notes = Callable[[T], Sequence[dict[str, Any]]]
REGISTRY = "registry"
PREDICTION = "prediction"


@dataclass(frozen=True)
class Note:
    """One pending note: what it is about (`topic`) and its JSON payload."""

    id: int
    topic: str
    payload: dict[str, Any]


async def append(
    conn: AsyncConnection, topic: str, payloads: Sequence[dict[str, Any]], now: datetime
) -> None:
    """Add notes in the caller's (write) transaction."""
    if payloads:
        await conn.execute(
            feed_outbox.insert(),
            [{"topic": topic, "payload": p, "create_time": now} for p in payloads],
        )


async def noted(
    conn: AsyncConnection, topic: str, notes: Notes[T] | None, result: T, now: datetime
) -> T:
    """`result`, once the notes it makes (if anyone listens: `notes`) are appended."""
    if notes is not None:
        await append(conn, topic, notes(result), now)
    return result


async def take(conn: AsyncConnection, limit: int) -> list[Note]:
    """The oldest pending notes, locked for this transaction (another replica's relay
    skips them on PostgreSQL; SQLite's writer lock serialises relays anyway)."""
    query = select(feed_outbox).order_by(feed_outbox.c.id).limit(limit)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = await conn.execute(query)
    return [Note(r.id, r.topic, dict(r.payload)) for r in rows]


async def forget(conn: AsyncConnection, notes: Sequence[Note]) -> None:
    if notes:
        await conn.execute(delete(feed_outbox).where(feed_outbox.c.id.in_([n.id for n in notes])))
