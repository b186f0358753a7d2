"""The producers of streams: their epochs and committed sequences (metric_producers).

A stream's open bumps its producer's epoch; each batch's transaction moves
the committed sequence from the one before it, at the stream's epoch, or
says why it cannot (a duplicate, a gap, a newer stream).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.errors import FailedPrecondition
from maestro_grpc.metrics.model import Duplicate, Opened, StreamPosition, gap, superseded
from maestro_grpc.metrics.store.tables import metric_producers
from maestro_grpc.store.dialect import insert


async def open_producer(
    conn: AsyncConnection, producer_id: str, project_id: uuid.UUID | None, now: datetime
) -> Opened:
    """Register a new stream of the producer: the next epoch, and where it resumes."""
    statement = insert(conn, metric_producers).values(
        producer_id=producer_id,
        project_id=project_id,
        committed_sequence=0,
        epoch=1,
        create_time=now,
        update_time=now,
    )
    upsert = statement.on_conflict_do_update(
        index_elements=[metric_producers.c.producer_id],
        set_={
            "epoch": metric_producers.c.epoch + 1,
            "project_id": statement.excluded.project_id,
            "update_time": statement.excluded.update_time,
        },
    ).returning(metric_producers.c.committed_sequence, metric_producers.c.epoch)
    row = (await conn.execute(upsert)).one()
    return Opened(committed_sequence=int(row.committed_sequence), epoch=int(row.epoch))


async def producer_state(conn: AsyncConnection, producer_id: str) -> Opened | None:
    row = (
        await conn.execute(
            select(metric_producers.c.committed_sequence, metric_producers.c.epoch).where(
                metric_producers.c.producer_id == producer_id
            )
        )
    ).first()
    if row is None:
        return None
    return Opened(int(row.committed_sequence), int(row.epoch))


async def advance(conn: AsyncConnection, position: StreamPosition, now: datetime) -> None:
    """Move the producer's committed sequence to this batch's, or say why not.

    Raises Duplicate (already committed), the superseded or gap errors, or
    FailedPrecondition for a producer that never opened.
    """
    moved = await conn.execute(
        update(metric_producers)
        .where(
            metric_producers.c.producer_id == position.producer_id,
            metric_producers.c.epoch == position.epoch,
            metric_producers.c.committed_sequence == position.sequence - 1,
        )
        .values(committed_sequence=position.sequence, update_time=now)
    )
    if moved.rowcount == 1:
        return
    state = await producer_state(conn, position.producer_id)
    if state is None:
        raise FailedPrecondition(
            f"producer {position.producer_id!r} is not open", reason="PRODUCER_NOT_OPEN"
        )
    if state.epoch != position.epoch:
        raise superseded(position.producer_id, state.epoch)
    if position.sequence <= state.committed_sequence:
        raise Duplicate()
    raise gap(position.sequence, state.committed_sequence + 1)


async def advance_all(
    conn: AsyncConnection, positions: list[StreamPosition], now: datetime
) -> bool:
    """Advance every producer of a group; False if any cannot (then the group fails).

    A group holds consecutive batches of each of its producers, so each
    producer moves from its first sequence to its last: on PostgreSQL one
    statement for them all (a round trip per batch was a third of a group's
    time under load).
    """
    ranges = _runs(positions)
    if ranges is None:
        return False  # not one run of sequences per producer: the one-by-one path decides
    if conn.dialect.name == "postgresql":
        result = await conn.execute(
            _ADVANCE_MANY,
            {
                "ids": list(ranges),
                "epochs": [r[0] for r in ranges.values()],
                "firsts": [r[1] for r in ranges.values()],
                "lasts": [r[2] for r in ranges.values()],
                "now": now,
            },
        )
        return int(result.rowcount) == len(ranges)
    moved = 0
    for producer_id, (epoch, first, last) in ranges.items():
        result = await conn.execute(
            update(metric_producers)
            .where(
                metric_producers.c.producer_id == producer_id,
                metric_producers.c.epoch == epoch,
                metric_producers.c.committed_sequence == first - 1,
            )
            .values(committed_sequence=last, update_time=now)
        )
        moved += result.rowcount
    return moved == len(ranges)


def _runs(positions: list[StreamPosition]) -> dict[str, tuple[int, int, int]] | None:
    """Per producer (epoch, first, last) of its unbroken run of sequences; None if broken."""
    ranges: dict[str, tuple[int, int, int]] = {}
    for position in sorted(positions, key=lambda p: (p.producer_id, p.sequence)):
        known = ranges.get(position.producer_id)
        if known is None:
            ranges[position.producer_id] = (position.epoch, position.sequence, position.sequence)
            continue
        epoch, first, last = known
        if position.epoch != epoch or position.sequence != last + 1:
            return None
        ranges[position.producer_id] = (epoch, first, position.sequence)
    return ranges


# Like the event upsert (events.py): one statement of fixed text, rows as arrays.
_ADVANCE_MANY = text(
    "UPDATE metric_producers AS p SET committed_sequence = v.last, update_time = :now "
    "FROM unnest(CAST(:ids AS text[]), CAST(:epochs AS bigint[]), CAST(:firsts AS bigint[]), "
    "CAST(:lasts AS bigint[])) AS v(producer_id, epoch, first, last) "
    "WHERE p.producer_id = v.producer_id AND p.epoch = v.epoch "
    "AND p.committed_sequence = v.first - 1"
)
