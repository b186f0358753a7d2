"""Revocation reaches every replica: two servers on one PostgreSQL database."""

from __future__ import annotations

import time

import grpc
import grpc.aio
import pytest

from maestro.access.v1 import access_service_pb2 as ac
from maestro.access.v1 import access_service_pb2_grpc
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.app import bootstrap_admin
from maestro_grpc.server import start_server
from tests.access.conftest import bearer
from tests.conftest import server_settings
from tests.helpers import eventually

pytestmark = pytest.mark.postgres


async def test_a_token_revoked_on_one_replica_is_refused_by_the_other_within_a_second(
    pg_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.conftest import _truncate_pg

    _truncate_pg(pg_url)
    one = server_settings(pg_url, tmp_path_factory.mktemp("one"))
    two = server_settings(pg_url, tmp_path_factory.mktemp("two"))
    admin = (await bootstrap_admin(one, "root")).secret
    first, second = await start_server(one), await start_server(two)
    try:
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{first.port}") as a,
            grpc.aio.insecure_channel(f"127.0.0.1:{second.port}") as b,
        ):
            access_a = access_service_pb2_grpc.AccessServiceStub(a)
            made = await access_a.CreateToken(
                ac.CreateTokenRequest(name="reader", role=ac.ROLE_READER), metadata=bearer(admin)
            )
            on_b = registry_service_pb2_grpc.RegistryServiceStub(b)
            # The second replica checks and caches the token.
            for _ in range(3):
                await on_b.ListProjects(rs.ListProjectsRequest(), metadata=bearer(made.secret))
            await eventually(
                lambda: second.app.access.tokens.armed, "B's token feed is up", within=10
            )
            await access_a.RevokeToken(
                ac.RevokeTokenRequest(token_id=made.token.id), metadata=bearer(admin)
            )
            revoked_at = time.monotonic()

            async def refused() -> bool:
                try:
                    await on_b.ListProjects(rs.ListProjectsRequest(), metadata=bearer(made.secret))
                except grpc.aio.AioRpcError as error:
                    return error.code() == grpc.StatusCode.UNAUTHENTICATED
                return False

            await eventually(refused, "B refuses the revoked token", within=5, every=0.01)
            assert time.monotonic() - revoked_at < 1.0
    finally:
        await first.stop(grace=0)
        await second.stop(grace=0)


async def test_a_page_token_from_one_replica_pages_on_another(
    pg_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from maestro.registry.v1 import project_pb2 as pp
    from tests.conftest import _truncate_pg

    _truncate_pg(pg_url)
    first = await start_server(server_settings(pg_url, tmp_path_factory.mktemp("a")))
    second = await start_server(server_settings(pg_url, tmp_path_factory.mktemp("b")))
    try:
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{first.port}") as a,
            grpc.aio.insecure_channel(f"127.0.0.1:{second.port}") as b,
        ):
            on_a = registry_service_pb2_grpc.RegistryServiceStub(a)
            on_b = registry_service_pb2_grpc.RegistryServiceStub(b)
            for n in range(3):
                await on_a.CreateProject(rs.CreateProjectRequest(project=pp.Project(name=f"p{n}")))
            page = await on_a.ListProjects(rs.ListProjectsRequest(page_size=2))
            rest = await on_b.ListProjects(
                rs.ListProjectsRequest(page_size=2, page_token=page.next_page_token)
            )
            names = [p.name for p in [*page.projects, *rest.projects]]
            assert names == ["p0", "p1", "p2"]
    finally:
        await first.stop(grace=0)
        await second.stop(grace=0)
