"""GetArtifact's per-replica cache: the project cache's rules, for artifacts.

On PostgreSQL a trigger (migration 0015) NOTIFYs every change to an
artifact row, whoever makes it (an RPC, the indexer rescoring, an operator
with psql); each replica LISTENs and drops the entry; its own writes
(update, delete, a usage, an upload) drop theirs before they answer. Tested
through two real servers on the real PostgreSQL. On SQLite the cache is off
(every other artifact test runs there too).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import asyncpg
import grpc
import grpc.aio
import pytest
from google.protobuf import field_mask_pb2

from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from maestro_grpc.config import Settings
from maestro_grpc.server import RunningServer, start_server
from tests.conftest import _truncate_pg, server_settings
from tests.content.support import upload
from tests.helpers import eventually, expect_error

Replicas = list[tuple[RunningServer, rsg.RegistryServiceStub]]


def figure(server: RunningServer, name: str) -> float:
    value = server.registry.get_sample_value(name)
    assert value is not None, f"{name} is not exported"
    return value


async def armed(server: RunningServer) -> bool:
    return figure(server, "maestro_artifact_cache_armed") == 1


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
            await eventually(partial(armed, server), "the artifact change feed connects")
        yield [(s, rsg.RegistryServiceStub(c)) for s, c in zip(servers, channels, strict=True)]
    finally:
        for ch in channels:
            await ch.close(None)
        for server in servers:
            await server.stop(grace=0.2)


async def get(stub: rsg.RegistryServiceStub, artifact_id: str) -> ap.Artifact:
    return (await stub.GetArtifact(rs.GetArtifactRequest(artifact_id=artifact_id))).artifact


async def create(stub: rsg.RegistryServiceStub, name: str) -> ap.Artifact:
    request = rs.CreateArtifactRequest(
        artifact=ap.Artifact(name=name, version="1", type=ap.ARTIFACT_TYPE_MODEL, tags=["a"])
    )
    return (await stub.CreateArtifact(request)).artifact


async def test_repeated_reads_come_from_memory_and_own_writes_show_at_once(
    replicas: Replicas,
) -> None:
    (server, stub), _ = replicas
    artifact = await create(stub, "cached")
    assert await get(stub, artifact.id) == artifact
    hits = figure(server, "maestro_artifact_cache_hits_total")
    misses = figure(server, "maestro_artifact_cache_misses_total")
    for _ in range(5):
        assert await get(stub, artifact.id) == artifact
    assert figure(server, "maestro_artifact_cache_hits_total") == hits + 5
    assert figure(server, "maestro_artifact_cache_misses_total") == misses
    assert figure(server, "maestro_artifact_cache_entries") == 1

    # Read your own writes: the very next read after each write shows it.
    await stub.UpdateArtifact(
        rs.UpdateArtifactRequest(
            artifact=ap.Artifact(id=artifact.id, description="now described"),
            update_mask=field_mask_pb2.FieldMask(paths=["description"]),
        )
    )
    assert (await get(stub, artifact.id)).description == "now described"

    project = (
        await stub.CreateProject(rs.CreateProjectRequest(project=pp.Project(name="user")))
    ).project
    await stub.LogArtifactUsage(
        rs.LogArtifactUsageRequest(
            artifact_usage=ap.ArtifactUsage(
                artifact_id=artifact.id, project_id=project.id, outcome=ap.USAGE_OUTCOME_HELPFUL
            )
        )
    )
    assert (await get(stub, artifact.id)).usage_count == 1

    await upload(stub, artifact.id, b"the model's bytes")
    got = await get(stub, artifact.id)
    assert got.size_bytes == len(b"the model's bytes")
    assert got.content_sha256

    await stub.DeleteArtifact(rs.DeleteArtifactRequest(artifact_id=artifact.id))
    await expect_error(get(stub, artifact.id), grpc.StatusCode.NOT_FOUND)


async def test_a_change_through_another_replica_reaches_this_one(replicas: Replicas) -> None:
    (_, a), (b_server, b) = replicas
    artifact = await create(a, "shared")
    await get(b, artifact.id)
    await get(b, artifact.id)
    assert figure(b_server, "maestro_artifact_cache_hits_total") >= 1

    await a.UpdateArtifact(
        rs.UpdateArtifactRequest(
            artifact=ap.Artifact(id=artifact.id, tags=["a", "b"]),
            update_mask=field_mask_pb2.FieldMask(paths=["tags"]),
        )
    )

    async def b_sees_it() -> bool:
        return list((await get(b, artifact.id)).tags) == ["a", "b"]

    await eventually(b_sees_it, "replica B shows replica A's change")

    await a.DeleteArtifact(rs.DeleteArtifactRequest(artifact_id=artifact.id))

    async def b_forgets_it() -> bool:
        try:
            await get(b, artifact.id)
        except grpc.aio.AioRpcError as error:
            return error.code() == grpc.StatusCode.NOT_FOUND
        return False

    await eventually(b_forgets_it, "replica B no longer serves the deleted artifact")


async def test_a_change_made_with_plain_sql_is_seen(replicas: Replicas, pg_url: str) -> None:
    """What the indexer worker does (another process rescoring impact), done by hand."""
    (_, stub), _ = replicas
    artifact = await create(stub, "by-hand")
    assert (await get(stub, artifact.id)).impact_score == 0
    conn = await asyncpg.connect(pg_url.replace("+asyncpg", ""))
    try:
        await conn.execute(
            "UPDATE artifacts SET impact_score = 42.5 WHERE id = $1", uuid.UUID(artifact.id)
        )
    finally:
        await conn.close()

    async def seen() -> bool:
        return (await get(stub, artifact.id)).impact_score == pytest.approx(42.5)

    await eventually(seen, "the hand-made change shows")
