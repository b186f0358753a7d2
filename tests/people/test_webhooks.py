"""Webhooks to a real HTTP receiver on loopback: signed, retried, dead-lettered, logged."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import grpc
import pytest

from maestro.people.v1 import collaboration_service_pb2 as cs
from maestro.people.v1 import collaboration_service_pb2_grpc as csg
from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro_grpc.config import Settings
from tests.access.conftest import Secured, bearer
from tests.conftest import server_settings
from tests.helpers import eventually, expect_error, expect_invalid, free_port
from tests.people.receiver import Receiver, verify


@pytest.fixture
def settings(store_url: str, tmp_path: Path) -> Settings:
    # Retries after 0.05 s, 0.1 s, 0.2 s ...: a test sees several in well under a second.
    return replace(server_settings(store_url, tmp_path), webhook_retry_seconds=0.05)


async def hook(secured: Secured, url: str, **fields: object) -> cs.CreateWebhookResponse:
    api = csg.CollaborationServiceStub(secured.channel)
    return await api.CreateWebhook(
        cs.CreateWebhookRequest(webhook=cs.Webhook(name="ops", url=url, **fields)),  # type: ignore[arg-type]
        metadata=bearer(secured.admin),
    )


async def new_version(secured: Secured, version: str, project: str) -> None:
    await secured.registry.CreateArtifact(
        rs.CreateArtifactRequest(
            artifact=ap.Artifact(
                name="churn-model",
                version=version,
                type=ap.ARTIFACT_TYPE_MODEL,
                origin_project_id=project,
            )
        ),
        metadata=bearer(secured.admin),
    )


async def deliveries(secured: Secured, webhook_id: str) -> list[cs.WebhookDelivery]:
    api = csg.CollaborationServiceStub(secured.channel)
    found = await api.ListWebhookDeliveries(
        cs.ListWebhookDeliveriesRequest(webhook_id=webhook_id), metadata=bearer(secured.admin)
    )
    return list(found.deliveries)


async def test_signed_json_and_slack_deliveries(secured: Secured) -> None:
    receiver = Receiver(0).start()
    try:
        churn = await secured.project("churn")
        plain = await hook(secured, receiver.url, event_kinds=[cs.ACTIVITY_KIND_ARTIFACT_VERSION])
        slack = await hook(secured, receiver.url, format=cs.WEBHOOK_FORMAT_SLACK)
        assert plain.secret.startswith("whsec_")
        await new_version(secured, "1", churn)
        await eventually(lambda: len(receiver.got) >= 2, "both deliveries arrive")
        by_kind = {("text" in r.json()): r for r in receiver.got}
        generic, slacky = by_kind[False], by_kind[True]
        assert verify(plain.secret, generic)
        assert not verify(slack.secret, generic)  # another webhook's secret does not match
        assert verify(slack.secret, slacky)
        assert generic.headers["X-Maestro-Event"] == "artifact_version"
        event = generic.json()["event"]
        assert event["summary"] == "churn-model 1 was registered"
        assert event["project_id"] == churn
        assert slacky.json() == {"text": "[maestro] artifact_version: churn-model 1 was registered"}

        # The sender records the answer after the receiver has it: wait for the log.
        async def logged_delivered() -> list[cs.WebhookDelivery]:
            found = await deliveries(secured, plain.webhook.id)
            return found if found and found[0].state == cs.DELIVERY_STATE_DELIVERED else []

        logged = await eventually(logged_delivered, "the log says delivered")
        assert [(d.state, d.attempts, d.last_status_code) for d in logged] == [
            (cs.DELIVERY_STATE_DELIVERED, 1, 200)
        ]
        assert logged[0].id == generic.headers["X-Maestro-Delivery"]
    finally:
        receiver.stop()


async def test_a_receiver_that_is_down_and_comes_back(secured: Secured) -> None:
    port = free_port()
    churn = await secured.project("churn")
    made = await hook(secured, f"http://127.0.0.1:{port}/hook", max_attempts=20)
    await new_version(secured, "1", churn)

    async def failed_twice() -> bool:
        found = await deliveries(secured, made.webhook.id)
        return bool(found) and found[0].attempts >= 2

    await eventually(failed_twice, "two failed attempts while the receiver is down")
    logged = (await deliveries(secured, made.webhook.id))[0]
    assert logged.state == cs.DELIVERY_STATE_PENDING
    assert logged.last_status_code == 0
    assert "Connect" in logged.last_error
    receiver = Receiver(port).start()
    try:
        await eventually(lambda: receiver.got, "the delivery once the receiver is back", within=15)
        assert verify(made.secret, receiver.got[0])

        async def delivered() -> bool:
            found = await deliveries(secured, made.webhook.id)
            return found[0].state == cs.DELIVERY_STATE_DELIVERED

        await eventually(delivered, "the log says delivered")
        assert (await deliveries(secured, made.webhook.id))[0].attempts >= 3
    finally:
        receiver.stop()


async def test_dead_letter_after_max_attempts(secured: Secured) -> None:
    receiver = Receiver(0, status=500).start()
    try:
        churn = await secured.project("churn")
        made = await hook(secured, receiver.url, max_attempts=3)
        await new_version(secured, "1", churn)

        async def dead() -> bool:
            found = await deliveries(secured, made.webhook.id)
            return bool(found) and found[0].state == cs.DELIVERY_STATE_DEAD

        await eventually(dead, "dead-lettered after three 500s")
        logged = (await deliveries(secured, made.webhook.id))[0]
        assert (logged.attempts, logged.last_status_code, logged.last_error) == (3, 500, "HTTP 500")
        assert len(receiver.got) == 3
    finally:
        receiver.stop()


async def test_webhooks_are_for_admins_and_checked(secured: Secured) -> None:
    reader, _ = await secured.token("reader")
    api = csg.CollaborationServiceStub(secured.channel)
    await expect_error(
        api.ListWebhooks(cs.ListWebhooksRequest(), metadata=bearer(reader)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    found = await expect_invalid(hook(secured, "ftp://x", max_attempts=50), "webhook.url")
    assert "webhook.max_attempts" in found
    made = await hook(secured, "https://hooks.example.com/x")
    gone = await api.DeleteWebhook(
        cs.DeleteWebhookRequest(webhook_id=made.webhook.id), metadata=bearer(secured.admin)
    )
    assert not gone.webhook.active
    listed = await api.ListWebhooks(cs.ListWebhooksRequest(), metadata=bearer(secured.admin))
    assert [(w.id, w.active) for w in listed.webhooks] == [(made.webhook.id, False)]
