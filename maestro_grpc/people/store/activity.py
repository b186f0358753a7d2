"""The SQL of follows and the feed: events stored once, feeds joined from follows on read.

A person's feed is every event with a target they follow (or their inbox),
not theirs, of a project they may see: one indexed join, whatever the
number of followers, so an event is in every follower's feed the moment
it commits ("fan-out on read"; nothing is copied per follower).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.people.model import Event, NewEvent, Target
from maestro_grpc.people.store.tables import (
    activity_events,
    activity_head,
    activity_reads,
    activity_targets,
    follows,
)
from maestro_grpc.people.store.webhooks import enqueue_deliveries
from maestro_grpc.store import outbox
from maestro_grpc.store.db import Database
from maestro_grpc.store.dialect import insert
from maestro_grpc.store.outbox import Note as Note

UNREAD_CAP = 1000
E, T, F = activity_events, activity_targets, follows


def _event(row: Any, read_seq: int) -> Event:
    return Event(
        seq=row.seq,
        kind=row.kind,
        summary=row.summary,
        project_id=row.project_id,
        artifact_id=row.artifact_id,
        comment_id=row.comment_id,
        actor_person_id=row.actor_person_id,
        create_time=row.create_time,
        read=row.seq <= read_seq,
    )


def _feed_of(person_id: uuid.UUID, within: frozenset[uuid.UUID] | None) -> ColumnElement[bool]:
    """The events of `person_id`'s feed, as a condition on activity_events."""
    followed = exists(
        select(1)
        .select_from(T.join(F, and_(F.c.kind == T.c.kind, F.c.key == T.c.key)))
        .where(T.c.event_seq == E.c.seq, F.c.person_id == person_id, E.c.seq > F.c.since_seq)
    )
    inbox = exists(
        select(1).where(T.c.event_seq == E.c.seq, T.c.kind == "inbox", T.c.key == str(person_id))
    )
    condition = and_(
        or_(followed, inbox),
        or_(E.c.actor_person_id.is_(None), E.c.actor_person_id != person_id),
    )
    if within is not None:
        condition = and_(
            condition, or_(E.c.project_id.is_(None), E.c.project_id.in_(sorted(within, key=str)))
        )
    return condition


async def _next_seq(conn: AsyncConnection) -> int:
    """The next sequence, under the head row's lock (held until this transaction ends)."""
    bumped = (
        await conn.execute(
            update(activity_head)
            .where(activity_head.c.id == 1)
            .values(seq=activity_head.c.seq + 1)
            .returning(activity_head.c.seq)
        )
    ).first()
    if bumped is not None:
        return int(bumped[0])
    last = await conn.scalar(select(func.coalesce(func.max(E.c.seq), 0)))
    await conn.execute(
        insert(conn, activity_head).values(id=1, seq=int(last or 0)).on_conflict_do_nothing()
    )
    return await _next_seq(conn)


async def record_in(conn: AsyncConnection, events: Sequence[NewEvent], now: datetime) -> list[int]:
    """Store `events` in the caller's transaction; their sequences (a repeat of a dedupe
    key is skipped)."""
    seqs: list[int] = []
    for event in events:
        if event.dedupe_key is not None:
            found = await conn.scalar(select(E.c.seq).where(E.c.dedupe_key == event.dedupe_key))
            if found is not None:
                continue
        seq = await _next_seq(conn)
        await conn.execute(
            E.insert().values(
                seq=seq,
                kind=event.kind,
                summary=event.summary,
                project_id=event.project_id,
                artifact_id=event.artifact_id,
                comment_id=event.comment_id,
                actor_person_id=event.actor_person_id,
                dedupe_key=event.dedupe_key,
                create_time=now,
            )
        )
        targets = {(t.kind, t.key[:200]) for t in event.targets}
        if targets:
            await conn.execute(
                T.insert(), [{"kind": k, "key": key, "event_seq": seq} for k, key in targets]
            )
        await enqueue_deliveries(conn, seq, event.kind, now)
        seqs.append(seq)
    return seqs


class ActivityStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, events: Sequence[NewEvent], now: datetime) -> list[int]:
        async with self.db.write() as conn:
            return await record_in(conn, events, now)

    async def relay(
        self,
        convert: Callable[[Sequence[Note]], Awaitable[Sequence[NewEvent]]],
        now: datetime,
        limit: int,
    ) -> tuple[list[int], int]:
        """Up to `limit` outbox notes into events, and deleted, in one transaction: the
        new events' sequences, and how many notes were taken (`limit`: maybe more)."""
        async with self.db.write() as conn:
            notes = await outbox.take(conn, limit)
            if not notes:
                return [], 0
            seqs = await record_in(conn, await convert(notes), now)
            await outbox.forget(conn, notes)
            return seqs, len(notes)

    # ---- follows ------------------------------------------------------------------------

    async def follow(self, person_id: uuid.UUID, target: Target, now: datetime) -> None:
        async with self.db.write() as conn:
            since = await conn.scalar(select(func.coalesce(func.max(E.c.seq), 0)))
            await conn.execute(
                insert(conn, F)
                .values(
                    person_id=person_id,
                    kind=target.kind,
                    key=target.key,
                    create_time=now,
                    since_seq=int(since or 0),
                )
                .on_conflict_do_nothing()
            )

    async def unfollow(self, person_id: uuid.UUID, target: Target) -> bool:
        async with self.db.write() as conn:
            gone = await conn.execute(
                delete(F).where(
                    F.c.person_id == person_id, F.c.kind == target.kind, F.c.key == target.key
                )
            )
            return bool(gone.rowcount)

    async def follows(self, person_id: uuid.UUID) -> list[Target]:
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(F.c.kind, F.c.key)
                .where(F.c.person_id == person_id)
                .order_by(F.c.create_time, F.c.kind, F.c.key)
            )
            return [Target(r.kind, r.key) for r in rows]

    # ---- the feed -----------------------------------------------------------------------

    async def _read_seq(self, conn: AsyncConnection, person_id: uuid.UUID) -> int:
        found = await conn.scalar(
            select(activity_reads.c.read_seq).where(activity_reads.c.person_id == person_id)
        )
        return int(found or 0)

    async def _unread(
        self,
        conn: AsyncConnection,
        person_id: uuid.UUID,
        within: frozenset[uuid.UUID] | None,
        read_seq: int,
    ) -> int:
        capped = (
            select(E.c.seq).where(_feed_of(person_id, within), E.c.seq > read_seq).limit(UNREAD_CAP)
        ).subquery()
        return int(await conn.scalar(select(func.count()).select_from(capped)) or 0)

    async def feed(
        self,
        person_id: uuid.UUID,
        within: frozenset[uuid.UUID] | None,
        *,
        before: int | None,
        limit: int,
        unread_only: bool,
    ) -> tuple[list[Event], int]:
        """Up to `limit` events before sequence `before`, newest first; the unread count."""
        async with self.db.read() as conn:
            read_seq = await self._read_seq(conn, person_id)
            query = select(E).where(_feed_of(person_id, within))
            if before is not None:
                query = query.where(E.c.seq < before)
            if unread_only:
                query = query.where(E.c.seq > read_seq)
            rows = list(await conn.execute(query.order_by(E.c.seq.desc()).limit(limit)))
            unread = await self._unread(conn, person_id, within, read_seq)
        return [_event(r, read_seq) for r in rows], unread

    async def after(
        self, person_id: uuid.UUID, within: frozenset[uuid.UUID] | None, after: int, limit: int
    ) -> list[Event]:
        """Up to `limit` events after sequence `after`, oldest first (WatchActivity)."""
        async with self.db.read() as conn:
            read_seq = await self._read_seq(conn, person_id)
            query = (
                select(E)
                .where(_feed_of(person_id, within), E.c.seq > after)
                .order_by(E.c.seq)
                .limit(limit)
            )
            rows = list(await conn.execute(query))
        return [_event(r, read_seq) for r in rows]

    async def head(self) -> int:
        async with self.db.read() as conn:
            return int(await conn.scalar(select(func.coalesce(func.max(E.c.seq), 0))) or 0)

    async def mark_read(
        self, person_id: uuid.UUID, within: frozenset[uuid.UUID] | None, up_to: int
    ) -> tuple[int, int]:
        async with self.db.write() as conn:
            if up_to <= 0:
                up_to = int(await conn.scalar(select(func.coalesce(func.max(E.c.seq), 0))) or 0)
            current = await self._read_seq(conn, person_id)
            read_seq = max(current, up_to)
            statement = insert(conn, activity_reads).values(person_id=person_id, read_seq=read_seq)
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[activity_reads.c.person_id], set_={"read_seq": read_seq}
                )
            )
            unread = await self._unread(conn, person_id, within, read_seq)
        return read_seq, unread
