"""Webhooks: subscriptions, and the sender that delivers, signs, retries and dead-letters.

The sender leases due deliveries from the store (any number of replicas may
run one), POSTs them concurrently, and records each outcome; it wakes when
this replica records an event and polls for the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.paging import Cursor
from maestro_grpc.people.model import Delivery, DueDelivery, Outcome, Webhook, WebhookFields
from maestro_grpc.people.store.webhooks import WebhookStore

log = logging.getLogger("maestro.people.webhooks")

LEASE = timedelta(seconds=60)
BATCH = 200
CONCURRENCY = 32
POLL_SECONDS = 0.5
TIMEOUT_SECONDS = 10.0

# (url, body, headers) -> the HTTP status; raises on no answer.
Post = Callable[[str, bytes, dict[str, str]], Awaitable[int]]


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Maestro-Signature value: HMAC-SHA256 over "<t>.<body>" (as Stripe signs)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def body_of(due: DueDelivery) -> bytes:
    e = due.event
    if due.format == "slack":
        return json.dumps({"text": f"[maestro] {e.kind}: {e.summary}"}).encode()
    payload = {
        "delivery_id": due.id,
        "event": {
            "sequence": e.seq,
            "kind": e.kind,
            "summary": e.summary,
            "project_id": str(e.project_id or ""),
            "artifact_id": str(e.artifact_id or ""),
            "comment_id": str(e.comment_id or ""),
            "actor_person_id": str(e.actor_person_id or ""),
            "create_time": e.create_time.isoformat(),
        },
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def httpx_post() -> tuple[Post, Callable[[], Awaitable[None]]]:
    """A pooled HTTP client's POST, and its close."""
    import httpx

    client = httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False)

    async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        response = await client.post(url, content=body, headers=headers)
        return response.status_code

    return post, client.aclose


class Webhooks:
    def __init__(
        self,
        store: WebhookStore,
        post: Post,
        *,
        retry: timedelta = timedelta(seconds=1),
        clock: Clock = utcnow,
    ) -> None:
        self.store = store
        self.post = post
        self.retry = retry
        self.clock = clock
        self._wake = asyncio.Event()
        self.sent = 0

    # ---- subscriptions ------------------------------------------------------------------

    async def create(self, fields: WebhookFields) -> tuple[Webhook, str]:
        secret = "whsec_" + secrets.token_urlsafe(32)
        return await self.store.create(fields, secret, self.clock()), secret

    async def all(self) -> list[Webhook]:
        return await self.store.every()

    async def delete(self, webhook_id: uuid.UUID) -> Webhook:
        return await self.store.deactivate(webhook_id)

    async def deliveries(
        self, webhook_id: uuid.UUID, states: Sequence[str], page_size: int, after: Cursor | None
    ) -> list[Delivery]:
        return await self.store.deliveries(webhook_id, states, page_size, after)

    # ---- sending -------------------------------------------------------------------------

    def wake(self, _seqs: Sequence[int] = ()) -> None:
        self._wake.set()

    async def _attempt(self, due: DueDelivery, gate: asyncio.Semaphore) -> Outcome:
        body = body_of(due)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "maestro-webhooks",
            "X-Maestro-Event": due.event.kind,
            "X-Maestro-Delivery": due.id,
            "X-Maestro-Signature": signature(due.secret, int(self.clock().timestamp()), body),
        }
        async with gate:
            try:
                status = await self.post(due.url, body, headers)
            except Exception as error:  # the receiver is down, slow, or unreachable
                return Outcome(due, 0, f"{type(error).__name__}: {error}")
        return Outcome(due, status, "" if 200 <= status < 300 else f"HTTP {status}")

    async def send_due(self) -> int:
        """One pass: lease what is due, send it, record how it went; how many were tried."""
        due = await self.store.lease(self.clock(), BATCH, LEASE)
        if not due:
            return 0
        gate = asyncio.Semaphore(CONCURRENCY)
        outcomes = await asyncio.gather(*(self._attempt(d, gate) for d in due))
        await self.store.settle(outcomes, self.clock(), self.retry)
        self.sent += sum(1 for o in outcomes if o.ok)
        return len(due)

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                tried = await self.send_due()
            except Exception as error:  # the store is down: try again next time
                log.warning("webhook pass failed: %s", error)
                tried = 0
            if tried < BATCH:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
