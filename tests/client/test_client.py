"""The client package (clients/python, `maestro_client`) against a real server on
both stores: the token on every call, the page iterator, retries of what is safe
to repeat, and nothing else."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import grpc
import pytest

from maestro.access.v1 import access_service_pb2 as access_pb
from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import project_pb2
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from maestro_client import (
    ClientSettings,
    ConfigError,
    MaestroClient,
    RetryPolicy,
    backoff_delay,
    open_sync_channel,
    responses,
    sync_pages,
)
from maestro_grpc.config import Settings
from maestro_grpc.server import RunningServer, start_server
from tests.conftest import with_settings
from tests.helpers import free_port

TOKEN = "client-test-token-0123456789"


def _project(name: str, team: str) -> rs.CreateProjectRequest:
    return rs.CreateProjectRequest(project=project_pb2.Project(name=name, labels={"team": team}))


async def test_pages_follow_every_token_and_keep_the_request(server: RunningServer) -> None:
    team = uuid.uuid4().hex[:8]
    async with MaestroClient(ClientSettings(address=f"127.0.0.1:{server.port}")) as maestro:
        made = [
            (await maestro.registry.CreateProject(_project(f"p{i}-{team}", team))).project.id
            for i in range(5)
        ]
        request = rs.ListProjectsRequest(labels={"team": team}, page_size=2)
        seen = [
            p.id async for p in maestro.pages(maestro.registry.ListProjects, request, "projects")
        ]
        assert sorted(seen) == sorted(made)
        assert len(seen) == 5
        assert request.page_token == ""  # the caller's request is not changed
        first3 = [
            p.id
            async for p in maestro.pages(
                maestro.registry.ListProjects, request, "projects", limit=3
            )
        ]
        assert first3 == seen[:3]

    # The blocking channel, from a thread (as a collector calls it), while the
    # server answers on this loop.
    def blocking() -> tuple[list[str], list[str]]:
        channel = open_sync_channel(ClientSettings(address=f"127.0.0.1:{server.port}"))
        try:
            stub: Any = rsg.RegistryServiceStub(cast(Any, channel))
            every = [p.id for p in sync_pages(stub.ListProjects, request, "projects", timeout=10)]
            one = [p.id for p in sync_pages(stub.ListProjects, request, "projects", limit=1)]
            return every, one
        finally:
            channel.close()

    every, one = await asyncio.to_thread(blocking)
    assert every == seen
    assert one == seen[:1]


@pytest.fixture
async def authed_server(settings: Settings) -> AsyncIterator[RunningServer]:
    running = await start_server(with_settings(settings, auth_tokens={TOKEN: "client-admin"}))
    try:
        yield running
    finally:
        await running.stop(grace=0.2)


async def test_the_token_goes_with_every_call(authed_server: RunningServer) -> None:
    address = f"127.0.0.1:{authed_server.port}"
    async with MaestroClient(ClientSettings(address=address, token=TOKEN)) as maestro:
        whoami = await maestro.access.WhoAmI(access_pb.WhoAmIRequest())
        assert whoami.auth_required
        assert whoami.token.name == "client-admin"
        created = await maestro.registry.CreateProject(_project(f"tok-{uuid.uuid4().hex[:8]}", "t"))
        assert created.project.id
    async with MaestroClient(ClientSettings(address=address)) as anonymous:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await anonymous.registry.ListProjects(rs.ListProjectsRequest())
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_retried_create_with_a_request_id_waits_for_the_server_and_writes_once(
    settings: Settings,
) -> None:
    """Nothing listens at first; the first retry starts the server there. The call
    succeeds once it is up, and the project exists once."""
    port = free_port()
    retries: list[tuple[str, int, grpc.StatusCode]] = []
    starting: list[asyncio.Task[RunningServer]] = []

    def on_retry(method: str, attempt: int, _delay: float, code: grpc.StatusCode) -> None:
        retries.append((method, attempt, code))
        if not starting:
            boot = start_server(with_settings(settings, port=port))
            starting.append(asyncio.get_running_loop().create_task(boot))

    policy = RetryPolicy(max_attempts=200, initial_backoff=0.05, max_backoff=0.3, on_retry=on_retry)
    name = f"retried-{uuid.uuid4().hex[:8]}"
    request = _project(name, "retry")
    request.request_id = str(uuid.uuid4())
    async with MaestroClient(
        ClientSettings(address=f"127.0.0.1:{port}"), retry=policy, timeout=None
    ) as maestro:
        try:
            created = await maestro.registry.CreateProject(request)
            assert created.project.name == name
            assert retries
            assert {(m, c) for m, _, c in retries} == {
                ("/maestro.registry.v1.RegistryService/CreateProject", grpc.StatusCode.UNAVAILABLE)
            }
            assert [a for _, a, _ in retries] == list(range(1, len(retries) + 1))
            listed = await maestro.registry.ListProjects(
                rs.ListProjectsRequest(labels={"team": "retry"})
            )
            assert [p.name for p in listed.projects] == [name]
        finally:
            if starting:
                await (await starting[0]).stop(grace=0.2)


async def test_writes_without_a_request_id_are_never_retried() -> None:
    retries: list[str] = []
    policy = RetryPolicy(
        max_attempts=3,
        initial_backoff=0.01,
        max_backoff=0.02,
        on_retry=lambda method, *_: retries.append(method),
    )
    nobody = ClientSettings(address=f"127.0.0.1:{free_port()}")
    async with MaestroClient(nobody, retry=policy, timeout=5) as maestro:
        with pytest.raises(grpc.aio.AioRpcError) as write:
            await maestro.registry.CreateProject(_project("never", "x"))
        assert write.value.code() == grpc.StatusCode.UNAVAILABLE
        assert retries == []
        with pytest.raises(grpc.aio.AioRpcError) as read:
            await maestro.registry.GetProject(rs.GetProjectRequest(project_id=str(uuid.uuid4())))
        assert read.value.code() == grpc.StatusCode.UNAVAILABLE
        assert retries == ["/maestro.registry.v1.RegistryService/GetProject"] * 2


def test_blocking_channels_retry_reads_too() -> None:
    retries: list[str] = []
    policy = RetryPolicy(
        max_attempts=3,
        initial_backoff=0.01,
        max_backoff=0.02,
        on_retry=lambda method, *_: retries.append(method),
    )
    channel = open_sync_channel(
        ClientSettings(address=f"127.0.0.1:{free_port()}", token="t" * 20), retry=policy
    )
    try:
        stub: Any = rsg.RegistryServiceStub(cast(Any, channel))
        with pytest.raises(grpc.RpcError) as read:
            stub.ListProjects(rs.ListProjectsRequest(), timeout=5)
        assert read.value.code() == grpc.StatusCode.UNAVAILABLE
        assert len(retries) == 2
        with pytest.raises(grpc.RpcError):
            stub.CreateProject(_project("never", "x"), timeout=5)
        assert len(retries) == 2
    finally:
        channel.close()


@pytest.mark.parametrize(
    ("attempt", "rng", "expected"),
    [
        (0, 0.0, 0.05),  # half of the first cap, never zero
        (0, 1.0, 0.1),
        (1, 0.5, 0.15),  # cap 0.2
        (3, 1.0, 0.8),
        (10, 0.0, 2.5),  # capped at the maximum
        (10, 1.0, 5.0),
        (10_000, 1.0, 5.0),  # no overflow on long outages
    ],
)
def test_backoff_is_exponential_with_equal_jitter(
    attempt: int, rng: float, expected: float
) -> None:
    assert backoff_delay(attempt, 0.1, 5.0, 2.0, lambda: rng) == pytest.approx(expected)


def test_policies_that_cannot_work_are_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="backoff"):
        RetryPolicy(initial_backoff=2, max_backoff=1)
    with pytest.raises(ValueError, match="multiplier"):
        RetryPolicy(multiplier=0.5)


def test_settings_from_the_environment(tmp_path: Path) -> None:
    assert ClientSettings.from_env({}) == ClientSettings(address="localhost:50051")
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    found = ClientSettings.from_env(
        {"MAESTRO_ADDRESS": " m:1 ", "MAESTRO_TOKEN": "mae_x", "MAESTRO_CA_FILE": str(ca)}
    )
    assert (found.address, found.token, found.tls, found.ca_file) == ("m:1", "mae_x", True, ca)
    assert ClientSettings.from_env({"MAESTRO_TLS": "yes"}).tls
    for env, message in [
        ({"MAESTRO_TLS": "maybe"}, "not a boolean"),
        ({"MAESTRO_CA_FILE": str(tmp_path / "none.pem")}, "does not exist"),
        ({"MAESTRO_TLS_CERT_FILE": str(ca)}, "set both"),
        ({"MAESTRO_TLS_CERT_FILE": str(ca), "MAESTRO_TLS_KEY_FILE": "/nope"}, "does not exist"),
    ]:
        with pytest.raises(ConfigError, match=message):
            ClientSettings.from_env(env)


async def test_search_pages_and_whole_responses(server: RunningServer) -> None:
    word = "w" + uuid.uuid4().hex[:8]
    async with MaestroClient(ClientSettings(address=f"127.0.0.1:{server.port}")) as maestro:
        for i in range(3):
            await maestro.registry.CreateArtifact(
                rs.CreateArtifactRequest(
                    artifact=ap.Artifact(
                        name=f"{word}-{i}", version="1.0.0", type=ap.ARTIFACT_TYPE_MODEL
                    )
                )
            )
        request = rs.SearchArtifactsRequest(query=word, page_size=2)
        found = [
            a.name
            async for a in maestro.pages(maestro.registry.SearchArtifacts, request, "artifacts")
        ]
        assert sorted(found) == [f"{word}-{i}" for i in range(3)]
        pages = [p async for p in responses(maestro.registry.SearchArtifacts, request)]
        assert [len(p.artifacts) for p in pages] == [2, 1]
        assert {p.total_size for p in pages} == {3}


async def test_the_timeout_bounds_every_attempt_together() -> None:
    retries: list[float] = []
    policy = RetryPolicy(
        max_attempts=50,
        initial_backoff=0.4,
        max_backoff=0.4,
        on_retry=lambda _m, _a, delay, _c: retries.append(delay),
    )
    nobody = ClientSettings(address=f"127.0.0.1:{free_port()}")
    async with MaestroClient(nobody, retry=policy, timeout=1.0) as maestro:
        with pytest.raises(grpc.aio.AioRpcError) as read:
            await maestro.registry.ListProjects(rs.ListProjectsRequest())
    assert read.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
    # Each wait is at least 0.2 s and no retry starts past the deadline: at
    # most five fit in one second, far from the fifty allowed.
    assert 1 <= len(retries) <= 5
    assert sum(retries) < 1.0
