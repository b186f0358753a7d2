"""The SQL of webhooks: subscriptions, deliveries made set-wise, leases, outcomes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, literal, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc import audit
from maestro_grpc.errors import NotFound
from maestro_grpc.paging import Cursor
from maestro_grpc.people.model import (
    Delivery,
    DueDelivery,
    Event,
    Outcome,
    Webhook,
    WebhookFields,
)
from maestro_grpc.people.store.tables import (
    activity_events,
    webhook_deliveries,
    webhook_kinds,
    webhooks,
)
from maestro_grpc.store.db import Database

W, K, D = webhooks, webhook_kinds, webhook_deliveries


async def enqueue_deliveries(conn: AsyncConnection, seq: int, kind: str, now: datetime) -> None:
    """One pending delivery per active webhook that wants `kind`: one INSERT ... SELECT,
    however many webhooks there are."""
    wanted = or_(
        W.c.all_kinds.is_(True),
        exists(select(1).where(K.c.webhook_id == W.c.id, K.c.kind == kind)),
    )
    chosen = select(
        W.c.id,
        literal(seq),
        literal(kind),
        literal("pending"),
        literal(0),
        literal(now, type_=D.c.next_attempt_time.type),
        literal(0),
        literal(""),
    ).where(W.c.active.is_(True), wanted)
    await conn.execute(
        D.insert().from_select(
            [
                "webhook_id",
                "event_seq",
                "kind",
                "state",
                "attempts",
                "next_attempt_time",
                "last_status_code",
                "last_error",
            ],
            chosen,
        )
    )


def _delivery(row: Any) -> Delivery:
    return Delivery(
        row.webhook_id,
        row.event_seq,
        row.kind,
        row.state,
        row.attempts,
        row.last_status_code,
        row.last_error,
        row.next_attempt_time,
        row.deliver_time,
    )


async def _webhook(conn: AsyncConnection, webhook_id: uuid.UUID) -> Webhook:
    row = (await conn.execute(select(W).where(W.c.id == webhook_id))).first()
    if row is None:
        raise NotFound(f"webhook {webhook_id} not found", reason="WEBHOOK_NOT_FOUND")
    kinds = await conn.execute(select(K.c.kind).where(K.c.webhook_id == webhook_id))
    return Webhook(
        row.id,
        row.name,
        row.url,
        row.format,
        tuple(sorted(k for (k,) in kinds)),
        row.max_attempts,
        row.active,
        row.create_time,
    )


class WebhookStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, fields: WebhookFields, secret: str, now: datetime) -> Webhook:
        webhook_id = uuid.uuid4()
        async with self.db.write() as conn:
            await conn.execute(
                W.insert().values(
                    id=webhook_id,
                    name=fields.name,
                    url=fields.url,
                    format=fields.format,
                    all_kinds=not fields.kinds,
                    max_attempts=fields.max_attempts,
                    secret=secret,
                    active=True,
                    create_time=now,
                )
            )
            if fields.kinds:
                await conn.execute(
                    K.insert(), [{"webhook_id": webhook_id, "kind": k} for k in fields.kinds]
                )
            audit.touch("webhooks", webhook_id)
            return await _webhook(conn, webhook_id)

    async def every(self) -> list[Webhook]:
        async with self.db.read() as conn:
            ids = [
                r.id for r in await conn.execute(select(W.c.id).order_by(W.c.create_time, W.c.id))
            ]
            return [await _webhook(conn, i) for i in ids]

    async def deactivate(self, webhook_id: uuid.UUID) -> Webhook:
        async with self.db.write() as conn:
            await _webhook(conn, webhook_id)
            await conn.execute(update(W).where(W.c.id == webhook_id).values(active=False))
            audit.touch("webhooks", webhook_id)
            return await _webhook(conn, webhook_id)

    async def deliveries(
        self,
        webhook_id: uuid.UUID,
        states: Sequence[str],
        page_size: int,
        after: Cursor | None,
    ) -> list[Delivery]:
        """Up to `page_size` + 1 deliveries, newest event first, after `after` (a sequence)."""
        query = select(D).where(D.c.webhook_id == webhook_id)
        if states:
            query = query.where(D.c.state.in_(list(states)))
        if after is not None:
            query = query.where(D.c.event_seq < int(after.key))
        query = query.order_by(D.c.event_seq.desc()).limit(page_size + 1)
        async with self.db.read() as conn:
            await _webhook(conn, webhook_id)
            return [_delivery(r) for r in await conn.execute(query)]

    async def lease(self, now: datetime, limit: int, hold: timedelta) -> list[DueDelivery]:
        """Take up to `limit` due deliveries for `hold` (SKIP LOCKED on PostgreSQL: any
        number of senders share the work)."""
        due = (
            select(D.c.webhook_id, D.c.event_seq)
            .where(D.c.state == "pending", D.c.next_attempt_time <= now)
            .order_by(D.c.next_attempt_time, D.c.event_seq)
            .limit(limit)
        )
        async with self.db.read() as conn:
            # Most passes find nothing: they need not take a write lock to learn it.
            if (await conn.execute(due.limit(1))).first() is None:
                return []
        async with self.db.write() as conn:
            if conn.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            keys = [(r.webhook_id, r.event_seq) for r in await conn.execute(due)]
            if not keys:
                return []
            chosen = or_(*(and_(D.c.webhook_id == w, D.c.event_seq == s) for w, s in keys))
            await conn.execute(update(D).where(chosen).values(next_attempt_time=now + hold))
            rows = await conn.execute(
                select(
                    D,
                    W.c.url,
                    W.c.format,
                    W.c.secret,
                    W.c.max_attempts,
                    activity_events.c.summary,
                    activity_events.c.project_id,
                    activity_events.c.artifact_id,
                    activity_events.c.comment_id,
                    activity_events.c.actor_person_id,
                    activity_events.c.create_time,
                )
                .join(W, W.c.id == D.c.webhook_id)
                .join(activity_events, activity_events.c.seq == D.c.event_seq)
                .where(chosen, true())
            )
            return [
                DueDelivery(
                    r.webhook_id,
                    r.url,
                    r.format,
                    r.secret,
                    r.max_attempts,
                    r.attempts,
                    Event(
                        r.event_seq,
                        r.kind,
                        r.summary,
                        r.project_id,
                        r.artifact_id,
                        r.comment_id,
                        r.actor_person_id,
                        r.create_time,
                    ),
                )
                for r in rows
            ]

    async def settle(self, outcomes: Sequence[Outcome], now: datetime, retry: timedelta) -> None:
        """Record each attempt: delivered, retried after `retry` * 2^(attempts-1) (at most an
        hour), or dead after its webhook's max attempts; one statement for all of them."""
        rows: list[dict[str, Any]] = []
        for o in outcomes:
            d = o.delivery
            attempts = d.attempts + 1
            state, deliver_time, next_time = "pending", None, now
            if o.ok:
                state, deliver_time = "delivered", now
            elif attempts >= d.max_attempts:
                state = "dead"
            else:
                next_time = now + min(retry * 2 ** (attempts - 1), timedelta(hours=1))
            rows.append(
                {
                    "w": d.webhook_id,
                    "s": d.event.seq,
                    "st": state,
                    "n": attempts,
                    "code": o.status,
                    "error": o.error[:500],
                    "deliver": deliver_time,
                    "next": next_time,
                }
            )
        if not rows:
            return
        statement = (
            update(D)
            .where(D.c.webhook_id == bindparam("w"), D.c.event_seq == bindparam("s"))
            .values(
                state=bindparam("st"),
                attempts=bindparam("n"),
                last_status_code=bindparam("code"),
                last_error=bindparam("error"),
                deliver_time=bindparam("deliver", type_=D.c.deliver_time.type),
                next_attempt_time=bindparam("next", type_=D.c.next_attempt_time.type),
            )
        )
        async with self.db.write() as conn:
            await conn.execute(statement, rows)
