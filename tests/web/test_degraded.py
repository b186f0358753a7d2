"""A page whose optional section's server is slow or out of reach still renders.

`maestro web` runs on its own against a gRPC proxy (a real server on loopback,
forwarding every call's bytes to the real Maestro server) that routes
RecommendArtifacts through a fault: held until the caller gives up (a hung
replica: the UI's deadline passes), or sent to an address nobody listens on
(the connection is refused: UNAVAILABLE, after the UI's retries). Everything
else reaches the real server, so the rest of the page is the real page.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from maestro.registry.v1 import artifact_pb2 as ap
from tests.helpers import free_port
from tests.web import seed
from tests.web.conftest import Maestro, web_process
from tests.web.http import request as fetch

RECOMMEND = "/maestro.registry.v1.RegistryService/RecommendArtifacts"
# What a caller's metadata the proxy passes on (the rest is the transport's own).
FORWARDED = {"authorization", "x-request-id"}
HOLD_AT_MOST_SECONDS = 60.0
# The UI's deadline for each call here (10 s by default): what the hung
# replica makes the page wait out, twice a test.
CALL_TIMEOUT_SECONDS = 2.0


class Proxy(grpc.GenericRpcHandler):  # type: ignore[type-arg]  # generic only in the stubs
    """Unary calls forwarded as bytes; RecommendArtifacts through `fault`."""

    def __init__(self, upstream: str, fault: str) -> None:
        self.fault = fault
        self.upstream = grpc.insecure_channel(upstream)
        # A port nothing listens on: connecting to it is refused.
        self.nowhere = grpc.insecure_channel(f"127.0.0.1:{free_port()}")

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler[bytes, bytes]:
        method = details.method

        def forward(body: bytes, context: grpc.ServicerContext) -> bytes:
            channel = self.upstream
            if method == RECOMMEND and self.fault == "hung":
                # Never answer: wait for the caller to give up.
                deadline = time.monotonic() + HOLD_AT_MOST_SECONDS
                while context.is_active() and time.monotonic() < deadline:
                    time.sleep(0.05)
                context.abort(grpc.StatusCode.INTERNAL, "the test's hung replica")
            if method == RECOMMEND and self.fault == "unreachable":
                channel = self.nowhere
            sent = tuple((k, v) for k, v in context.invocation_metadata() if k in FORWARDED)
            try:
                answer: bytes = channel.unary_unary(method, None, None)(
                    body, metadata=sent, timeout=context.time_remaining()
                )
            except grpc.RpcError as error:
                context.abort(error.code(), error.details() or "")
            return answer

        return grpc.unary_unary_rpc_method_handler(forward)


@pytest.fixture(params=["hung", "unreachable"])
def ui_behind_fault(
    maestro: Maestro, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """`maestro web` against the proxy: its URL."""
    proxy = Proxy(maestro.server.address, request.param)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    server.add_generic_rpc_handlers((proxy,))
    proxy_port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with web_process(
            f"127.0.0.1:{proxy_port}",
            tmp_path / "web.log",
            env={"MAESTRO_WEB_CALL_TIMEOUT_SECONDS": str(CALL_TIMEOUT_SECONDS)},
        ) as base:
            yield base
    finally:
        server.stop(None)
        proxy.upstream.close()
        proxy.nowhere.close()


def _signed_in(base: str, token: str) -> dict[str, str]:
    csrf = fetch(base, "/signin").cookie_value("maestro_csrf")
    signed = fetch(
        base,
        "/signin",
        method="POST",
        form={"csrf": csrf, "token": token},
        cookies={"maestro_csrf": csrf},
    )
    assert signed.status == 303
    return {"maestro_session": signed.cookie_value("maestro_session")}


def _page(base: str, path: str, cookies: dict[str, str]) -> tuple[int, str]:
    # The page may wait out the UI's deadline for the held call: a patient request.
    import http.client

    connection = http.client.HTTPConnection(base.removeprefix("http://"), timeout=120)
    try:
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        connection.request("GET", path, headers={"cookie": cookie})
        answer = connection.getresponse()
        return answer.status, answer.read().decode()
    finally:
        connection.close()


def test_the_project_page_renders_when_recommendations_cannot_load(
    maestro: Maestro, ui_behind_fault: str
) -> None:
    w = seed.word()
    project = seed.project(maestro, f"slowrecs-{w}")
    used = seed.artifact(maestro, f"used-{w}")
    seed.use(maestro, used.id, project.id, ap.USAGE_OUTCOME_HELPFUL)
    cookies = _signed_in(ui_behind_fault, maestro.token)

    status, body = _page(ui_behind_fault, f"/projects/{project.id}", cookies)

    assert status == 200, body[-2000:]
    assert f"slowrecs-{w}</h1>" in body
    assert "Could not load the recommendations" in body
    # The rest of the page is there: its other sections, and the comment box.
    assert "Velocity, by week" in body
    assert "Comment (Markdown; @handle mentions)" in body
    assert "Post comment" in body

    # The artifact page asks for the same recommendations (for its origin project).
    made = seed.artifact(maestro, f"model-{w}", origin_project_id=project.id)
    status, body = _page(ui_behind_fault, f"/artifacts/{made.id}", cookies)
    assert status == 200, body[-2000:]
    assert "Could not load the recommendations" in body
    assert "Review this version" in body
