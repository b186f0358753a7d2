"""The UI's only way to Maestro: a gRPC channel and the public service stubs.

Each page call carries the signed-in person's token (from their cookie) as
`authorization: Bearer ...`, so the server authorises and audits the person,
not the UI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio

from maestro.access.v1 import access_service_pb2_grpc
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro.people.v1 import collaboration_service_pb2_grpc, people_service_pb2_grpc
from maestro.prediction.v1 import prediction_service_pb2_grpc
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.web.settings import WebSettings

# A page waits this long for any one RPC before it says the server is slow
# (`MAESTRO_WEB_CALL_TIMEOUT_SECONDS`; `Backend.timeout`).
CALL_TIMEOUT_SECONDS = 10.0


# UNAVAILABLE means "retry" (the store was briefly out of reach, a replica
# restarting): the page tries twice more, backing off, before it says so.
# The UI's only writes (PredictSuccess, sign-in checks) are safe to repeat.
SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{}],
                "retryPolicy": {
                    "maxAttempts": 3,
                    "initialBackoff": "0.5s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


def open_channel(target: str, settings: WebSettings) -> grpc.aio.Channel:
    options = [
        ("grpc.service_config", SERVICE_CONFIG),
        ("grpc.enable_retries", 1),
        ("grpc.max_receive_message_length", 32 * 1024 * 1024),
        ("grpc.initial_reconnect_backoff_ms", 200),
        ("grpc.max_reconnect_backoff_ms", 5_000),
    ]
    if settings.server_tls:
        roots = settings.server_ca_file.read_bytes() if settings.server_ca_file else None
        credentials = grpc.ssl_channel_credentials(root_certificates=roots)
        return grpc.aio.secure_channel(target, credentials, options=options)
    return grpc.aio.insecure_channel(target, options=options)


@dataclass
class Backend:
    """The stubs of every public service, on one channel."""

    channel: grpc.aio.Channel
    registry: registry_service_pb2_grpc.RegistryServiceStub
    metrics: metrics_service_pb2_grpc.MetricsServiceStub
    prediction: prediction_service_pb2_grpc.PredictionServiceStub
    access: access_service_pb2_grpc.AccessServiceStub
    people: people_service_pb2_grpc.PeopleServiceStub
    collaboration: collaboration_service_pb2_grpc.CollaborationServiceStub
    # Each page call's deadline, in seconds.
    timeout: float = CALL_TIMEOUT_SECONDS

    @classmethod
    def on(cls, channel: grpc.aio.Channel, timeout: float = CALL_TIMEOUT_SECONDS) -> Backend:
        return cls(
            channel=channel,
            timeout=timeout,
            registry=registry_service_pb2_grpc.RegistryServiceStub(channel),
            metrics=metrics_service_pb2_grpc.MetricsServiceStub(channel),
            prediction=prediction_service_pb2_grpc.PredictionServiceStub(channel),
            access=access_service_pb2_grpc.AccessServiceStub(channel),
            people=people_service_pb2_grpc.PeopleServiceStub(channel),
            collaboration=collaboration_service_pb2_grpc.CollaborationServiceStub(channel),
        )

    async def close(self) -> None:
        await self.channel.close(None)


def metadata(token: str | None) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")] if token else []


# What an answer a page can do without may fail with and still leave the page
# whole: the caller may not see it (and whatever more the page names), or it
# did not come in time or at all (a slow or unreachable server: the section
# says it could not load, the rest renders).
_NOT_SHOWN = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND)
_NOT_LOADED = (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE)


class Unloaded:
    """An optional section's answer that did not arrive (DEADLINE_EXCEEDED, or UNAVAILABLE
    after the channel's retries). False, as None is, so a page that shows nothing for
    None needs no change; `unloaded()` tells the template to say the section failed."""

    def __init__(self, code: grpc.StatusCode) -> None:
        self.code = code

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"Unloaded({self.code.name})"


async def maybe(call: Any, *also: grpc.StatusCode) -> Any:
    """An answer a page can do without: None when the caller may not see it
    (PERMISSION_DENIED, NOT_FOUND, and any of `also`), `Unloaded` when it did not
    come in time or the server could not be reached; any other error is the page's."""
    try:
        return await call
    except grpc.aio.AioRpcError as error:
        if error.code() in (*_NOT_SHOWN, *also):
            return None
        if error.code() in _NOT_LOADED:
            return Unloaded(error.code())
        raise


def unloaded(**answers: Any) -> set[str]:
    """The names of the sections whose answer is `Unloaded`, for the template to say so."""
    return {name for name, answer in answers.items() if isinstance(answer, Unloaded)}
