"""CollaborationService's webhook handlers (admin only, by the permission table)."""

from __future__ import annotations

from urllib.parse import urlsplit

from maestro.people.v1 import collaboration_service_pb2 as pb
from maestro.people.v1 import collaboration_service_pb2_grpc
from maestro_grpc.errors import Violations
from maestro_grpc.paging import Cursor, IdKind, KeyKind
from maestro_grpc.people.domain.webhooks import Webhooks
from maestro_grpc.people.model import Delivery, Webhook, WebhookFields
from maestro_grpc.people.wire.collab_convert import ACTIVITY
from maestro_grpc.wire import checks, pagetoken
from maestro_grpc.wire.context import Context
from maestro_grpc.wire.pagetoken import PageTokens
from maestro_grpc.wire.protoconv import require_uuid, set_timestamp

KIND_NAMES = {v: k for k, v in ACTIVITY.items()}
STATES = {
    pb.DELIVERY_STATE_PENDING: "pending",
    pb.DELIVERY_STATE_DELIVERED: "delivered",
    pb.DELIVERY_STATE_DEAD: "dead",
}
STATE_OUT = {v: k for k, v in STATES.items()}
FORMATS = {
    pb.WEBHOOK_FORMAT_UNSPECIFIED: "json",
    pb.WEBHOOK_FORMAT_JSON: "json",
    pb.WEBHOOK_FORMAT_SLACK: "slack",
}


def webhook_fields(v: Violations, msg: pb.Webhook) -> WebhookFields:
    name = checks.text(v, msg.name, "webhook.name", max_len=100, required=True)
    url = checks.text(v, msg.url, "webhook.url", max_len=2000, required=True)
    parts = urlsplit(url)
    if url and (parts.scheme not in ("http", "https") or not parts.netloc):
        v.add("webhook.url", "must be an http:// or https:// URL")
    fmt = FORMATS.get(msg.format)
    if fmt is None:
        v.add("webhook.format", f"{msg.format} is not a WebhookFormat")
    kinds: list[str] = []
    for i, kind in enumerate(msg.event_kinds):
        name_of = KIND_NAMES.get(kind)
        if name_of is None:
            v.add(f"webhook.event_kinds[{i}]", f"{kind} is not an ActivityKind")
        elif name_of not in kinds:
            kinds.append(name_of)
    attempts = msg.max_attempts or 8
    if not 1 <= attempts <= 20:
        v.add("webhook.max_attempts", "must be 1 to 20")
    return WebhookFields(name, url, fmt or "json", tuple(kinds), attempts)


def webhook_to_proto(w: Webhook) -> pb.Webhook:
    msg = pb.Webhook(
        id=str(w.id),
        name=w.name,
        url=w.url,
        format=pb.WEBHOOK_FORMAT_SLACK if w.format == "slack" else pb.WEBHOOK_FORMAT_JSON,
        event_kinds=[ACTIVITY[k] for k in w.kinds],
        max_attempts=w.max_attempts,
        active=w.active,
    )
    set_timestamp(msg.create_time, w.create_time)
    return msg


def delivery_to_proto(d: Delivery) -> pb.WebhookDelivery:
    msg = pb.WebhookDelivery(
        id=d.id,
        event_sequence=d.event_seq,
        kind=ACTIVITY.get(d.kind, pb.ACTIVITY_KIND_UNSPECIFIED),
        state=STATE_OUT[d.state],
        attempts=d.attempts,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
    )
    if d.state == "pending":
        set_timestamp(msg.next_attempt_time, d.next_attempt_time)
    set_timestamp(msg.deliver_time, d.deliver_time)
    return msg


class WebhookHandlers(collaboration_service_pb2_grpc.CollaborationServiceServicer):
    webhooks: Webhooks
    pages: PageTokens

    async def CreateWebhook(
        self, request: pb.CreateWebhookRequest, context: Context
    ) -> pb.CreateWebhookResponse:
        v = Violations()
        fields = webhook_fields(v, request.webhook)
        v.raise_if_any()
        made, secret = await self.webhooks.create(fields)
        return pb.CreateWebhookResponse(webhook=webhook_to_proto(made), secret=secret)

    async def ListWebhooks(
        self, request: pb.ListWebhooksRequest, context: Context
    ) -> pb.ListWebhooksResponse:
        return pb.ListWebhooksResponse(
            webhooks=[webhook_to_proto(w) for w in await self.webhooks.all()]
        )

    async def DeleteWebhook(
        self, request: pb.DeleteWebhookRequest, context: Context
    ) -> pb.DeleteWebhookResponse:
        gone = await self.webhooks.delete(require_uuid(request.webhook_id, "webhook_id"))
        return pb.DeleteWebhookResponse(webhook=webhook_to_proto(gone))

    async def ListWebhookDeliveries(
        self, request: pb.ListWebhookDeliveriesRequest, context: Context
    ) -> pb.ListWebhookDeliveriesResponse:
        v = Violations()
        webhook_id = require_uuid(request.webhook_id, "webhook_id")
        states: list[str] = []
        for i, state in enumerate(request.states):
            if state not in STATES:
                v.add(f"states[{i}]", f"{state} is not a DeliveryState")
            else:
                states.append(STATES[state])
        v.raise_if_any()
        size = pagetoken.page_size(request.page_size)
        after = self.pages.decode(
            "ListWebhookDeliveries", request, request.page_token, key=KeyKind.COUNT, ids=IdKind.INT
        )
        found = await self.webhooks.deliveries(webhook_id, states, size, after)
        cursor = Cursor(found[size - 1].event_seq, "0") if len(found) > size else None
        return pb.ListWebhookDeliveriesResponse(
            deliveries=[delivery_to_proto(d) for d in found[:size]],
            next_page_token=self.pages.encode("ListWebhookDeliveries", request, cursor),
        )
