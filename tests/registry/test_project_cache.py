"""GetProject's per-replica cache: it answers from memory, and never serves a change it missed.

The rules (maestro_grpc/registry/domain/project_cache.py): on PostgreSQL a trigger
NOTIFYs every change to a project or its team; each replica LISTENs and drops
the entry; its own writes drop theirs before they answer; without the LISTEN
connection the cache does not answer at all. Tested through real servers on
the real PostgreSQL, including two replicas on one database and a change made
behind the service's back with plain SQL.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace
from functools import partial
from pathlib import Path

import asyncpg
import grpc.aio
import pytest
from google.protobuf import field_mask_pb2

from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from maestro_grpc.config import Settings
from maestro_grpc.registry.domain.project_cache import ProjectCache
from maestro_grpc.registry.store.change_feed import APPLICATION_NAME
from maestro_grpc.registry.wire.memo import AnswerMemo
from maestro_grpc.server import RunningServer, start_server
from tests.conftest import _truncate_pg, server_settings
from tests.helpers import eventually

Replicas = list[tuple[RunningServer, rsg.RegistryServiceStub]]

# ---- the cache's own rules --------------------------------------------------------


def test_cache_answers_only_while_armed() -> None:
    cache = ProjectCache[str](10)
    key = uuid.uuid4()
    cache.put(key, "v1", cache.generation)
    assert cache.get(key) is None, "stored while the change feed was down"
    cache.arm()
    cache.put(key, "v1", cache.generation)
    assert cache.get(key) == "v1"
    cache.disarm()
    assert cache.get(key) is None
    assert len(cache) == 0


async def test_a_read_that_raced_with_a_change_is_not_kept() -> None:
    cache = ProjectCache[str](10)
    cache.arm()
    key, other = uuid.uuid4(), uuid.uuid4()

    async def read_while_something_changes(_key: uuid.UUID) -> str:
        cache.invalidate(other)  # a change lands during the read (any project)
        return "maybe stale"

    async def read(_key: uuid.UUID) -> str:
        return "fresh"

    assert await cache.get_or_load(key, read_while_something_changes) == "maybe stale"
    assert cache.get(key) is None  # answered, not kept
    assert await cache.get_or_load(key, read) == "fresh"
    assert await cache.get_or_load(key, read_while_something_changes) == "fresh"  # from memory
    cache.invalidate(key)
    assert cache.get(key) is None


def test_cache_keeps_the_most_recently_used() -> None:
    cache = ProjectCache[str](2)
    cache.arm()
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for key in (a, b):
        cache.put(key, str(key), cache.generation)
    assert cache.get(a) == str(a)  # a is now the most recent
    cache.put(c, str(c), cache.generation)
    assert cache.get(b) is None
    assert cache.get(a) == str(a)
    assert cache.get(c) == str(c)
    assert len(cache) == 2


def test_a_zero_size_cache_keeps_nothing() -> None:
    cache = ProjectCache[str](0)
    cache.arm()
    key = uuid.uuid4()
    cache.put(key, "x", cache.generation)
    assert cache.get(key) is None


def test_an_answer_is_reused_only_for_the_very_same_record() -> None:
    """GetProject's responses are memoised by the identity of the record the cache gave."""
    memo = AnswerMemo[dict[str, int], list[dict[str, int]]](2)
    built: list[dict[str, int]] = []

    def build(record: dict[str, int]) -> list[dict[str, int]]:
        built.append(record)
        return [record]

    key = uuid.uuid4()
    before, after = {"revision": 1}, {"revision": 1}  # equal, but read apart: a change between
    first = memo.answer(key, before, build)
    assert memo.answer(key, before, build) is first
    assert memo.answer(key, after, build) == first
    assert memo.answer(key, after, build) is not first
    assert built == [before, after]
    for _ in range(3):
        memo.answer(uuid.uuid4(), before, build)
    assert len(memo) == 2
    unkept = AnswerMemo[dict[str, int], list[dict[str, int]]](0)
    assert unkept.answer(key, before, build) is not unkept.answer(key, before, build)


# ---- through real servers on PostgreSQL ---------------------------------------------


def figure(server: RunningServer, name: str) -> float:
    value = server.registry.get_sample_value(name)
    assert value is not None, f"{name} is not exported"
    return value


async def armed(server: RunningServer) -> bool:
    return figure(server, "maestro_project_cache_armed") == 1


@pytest.fixture
def pg_settings(pg_url: str, tmp_path: Path) -> Settings:
    _truncate_pg(pg_url)
    return server_settings(pg_url, tmp_path)


@pytest.fixture
async def replicas(pg_settings: Settings) -> AsyncIterator[Replicas]:
    """Two servers on one database, as two replicas behind a load balancer."""
    servers = [await start_server(pg_settings) for _ in range(2)]
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{s.port}") for s in servers]
    try:
        for server in servers:
            await eventually(partial(armed, server), "the change feed connects")
        yield [(s, rsg.RegistryServiceStub(c)) for s, c in zip(servers, channels, strict=True)]
    finally:
        for ch in channels:
            await ch.close(None)
        for server in servers:
            await server.stop(grace=0.2)


async def get(stub: rsg.RegistryServiceStub, project_id: str) -> pp.Project:
    return (await stub.GetProject(rs.GetProjectRequest(project_id=project_id))).project


async def test_repeated_reads_come_from_memory_and_a_write_shows_at_once(
    replicas: Replicas,
) -> None:
    (server, stub), _ = replicas
    project = (
        await stub.CreateProject(rs.CreateProjectRequest(project=pp.Project(name="cached")))
    ).project
    assert await get(stub, project.id) == project
    misses = figure(server, "maestro_project_cache_misses_total")
    hits = figure(server, "maestro_project_cache_hits_total")
    for _ in range(5):
        assert await get(stub, project.id) == project
    assert figure(server, "maestro_project_cache_hits_total") == hits + 5
    assert figure(server, "maestro_project_cache_misses_total") == misses
    assert figure(server, "maestro_project_cache_entries") == 1

    # Read your own writes: the very next read after each write shows it.
    updated = (
        await stub.UpdateProject(
            rs.UpdateProjectRequest(
                project=pp.Project(id=project.id, description="now described"),
                update_mask=field_mask_pb2.FieldMask(paths=["description"]),
            )
        )
    ).project
    assert (await get(stub, project.id)).description == "now described"
    member = (
        await stub.AddTeamMember(
            rs.AddTeamMemberRequest(
                project_id=project.id,
                team_member=pp.TeamMember(person_id="ada", role=pp.TEAM_ROLE_ML_ENGINEER),
            )
        )
    ).team_member
    got = await get(stub, project.id)
    assert [m.person_id for m in got.team] == ["ada"]
    assert got.etag != updated.etag
    await stub.RemoveTeamMember(rs.RemoveTeamMemberRequest(team_member_id=member.id))
    assert list((await get(stub, project.id)).team) == []
    await stub.UpdateProjectSuccess(
        rs.UpdateProjectSuccessRequest(
            project_id=project.id, success=pp.ProjectSuccess(succeeded=True, score=0.9)
        )
    )
    assert (await get(stub, project.id)).success.succeeded


async def test_a_change_through_another_replica_reaches_this_one(replicas: Replicas) -> None:
    (a_server, a), (b_server, b) = replicas
    project = (
        await a.CreateProject(rs.CreateProjectRequest(project=pp.Project(name="shared")))
    ).project
    await get(b, project.id)
    await get(b, project.id)
    assert figure(b_server, "maestro_project_cache_hits_total") >= 1

    await a.UpdateProject(
        rs.UpdateProjectRequest(
            project=pp.Project(id=project.id, description="changed on A"),
            update_mask=field_mask_pb2.FieldMask(paths=["description"]),
        )
    )

    async def b_sees_it() -> bool:
        return (await get(b, project.id)).description == "changed on A"

    await eventually(b_sees_it, "replica B shows replica A's change")
    assert figure(a_server, "maestro_project_cache_armed") == 1


async def test_a_change_made_with_plain_sql_is_seen(replicas: Replicas, pg_url: str) -> None:
    (_, stub), _ = replicas
    project = (
        await stub.CreateProject(rs.CreateProjectRequest(project=pp.Project(name="by-hand")))
    ).project
    await stub.AddTeamMember(
        rs.AddTeamMemberRequest(
            project_id=project.id,
            team_member=pp.TeamMember(person_id="grace", role=pp.TEAM_ROLE_DATA_SCIENTIST),
        )
    )
    assert len((await get(stub, project.id)).team) == 1

    conn = await asyncpg.connect(pg_url.replace("+asyncpg", ""))
    try:
        # An operator's fix, behind the service's back: a team change only.
        await conn.execute(
            "UPDATE team_members SET years_experience = 12 WHERE project_id = $1",
            uuid.UUID(project.id),
        )
        await conn.execute(
            "UPDATE projects SET description = 'fixed by hand' WHERE id = $1",
            uuid.UUID(project.id),
        )
    finally:
        await conn.close()

    async def seen() -> bool:
        got = await get(stub, project.id)
        return got.description == "fixed by hand" and got.team[0].years_experience == 12

    await eventually(seen, "the hand-made change shows")


async def test_without_the_change_feed_reads_go_to_the_store(
    replicas: Replicas, pg_url: str
) -> None:
    (server, stub), _ = replicas
    project = (
        await stub.CreateProject(rs.CreateProjectRequest(project=pp.Project(name="feedless")))
    ).project
    await get(stub, project.id)

    conn = await asyncpg.connect(pg_url.replace("+asyncpg", ""))
    try:
        # Cut the replicas' LISTEN connections, and keep changes silent
        # meanwhile: a change the cache cannot hear about.
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = $1 AND datname = current_database()",
            APPLICATION_NAME,
        )
        await eventually(lambda: _not(armed(server)), "the cache notices the lost feed")
        hits = figure(server, "maestro_project_cache_hits_total")
        await conn.execute("ALTER TABLE projects DISABLE TRIGGER projects_notify_changed")
        try:
            await conn.execute(
                "UPDATE projects SET description = 'unannounced' WHERE id = $1",
                uuid.UUID(project.id),
            )
            assert (await get(stub, project.id)).description == "unannounced"
            assert figure(server, "maestro_project_cache_hits_total") == hits
        finally:
            await conn.execute("ALTER TABLE projects ENABLE TRIGGER projects_notify_changed")
    finally:
        await conn.close()

    # The feed comes back by itself, and the cache starts empty.
    await eventually(lambda: armed(server), "the change feed reconnects")
    assert (await get(stub, project.id)).description == "unannounced"


async def _not(check: Awaitable[bool]) -> bool:
    return not await check


async def test_the_cache_is_off_on_sqlite_and_when_sized_zero(settings: Settings) -> None:
    if not settings.database_url.startswith("sqlite"):
        settings = replace(settings, project_cache_size=0)
    server = await start_server(settings)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = rsg.RegistryServiceStub(channel)
            project = (
                await stub.CreateProject(rs.CreateProjectRequest(project=pp.Project(name="plain")))
            ).project
            assert await get(stub, project.id) == project
        assert server.registry.get_sample_value("maestro_project_cache_armed") is None
    finally:
        await server.stop(grace=0.2)
