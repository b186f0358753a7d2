"""Servers with tokens: a bootstrapped admin, and channels that carry a token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import grpc.aio
import pytest

from maestro.access.v1 import access_service_pb2 as ac
from maestro.access.v1 import access_service_pb2_grpc
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.app import bootstrap_admin
from maestro_grpc.config import Settings
from maestro_grpc.server import RunningServer, start_server

ROLES = {
    "admin": ac.ROLE_ADMIN,
    "writer": ac.ROLE_WRITER,
    "reader": ac.ROLE_READER,
    "agent": ac.ROLE_AGENT,
}


def bearer(secret: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {secret}"),)


@dataclass
class Secured:
    """A running server whose store holds an admin token."""

    server: RunningServer
    admin: str
    channel: grpc.aio.Channel

    @property
    def access(self) -> access_service_pb2_grpc.AccessServiceStub:
        return access_service_pb2_grpc.AccessServiceStub(self.channel)

    @property
    def registry(self) -> registry_service_pb2_grpc.RegistryServiceStub:
        return registry_service_pb2_grpc.RegistryServiceStub(self.channel)

    async def token(
        self, role: str, *projects: str, name: str = "", expire: object = None
    ) -> tuple[str, ac.Token]:
        request = ac.CreateTokenRequest(
            name=name or f"{role}-{len(projects)}", role=ROLES[role], project_ids=projects
        )
        if expire is not None:
            request.expire_time.FromDatetime(expire)  # type: ignore[arg-type]
        made = await self.access.CreateToken(request, metadata=bearer(self.admin))
        return made.secret, made.token

    async def project(self, name: str) -> str:
        created = await self.registry.CreateProject(
            rs.CreateProjectRequest(project=pp.Project(name=name)), metadata=bearer(self.admin)
        )
        return created.project.id


@pytest.fixture
async def secured(settings: Settings) -> AsyncIterator[Secured]:
    made = await bootstrap_admin(settings, "root")
    running = await start_server(settings)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield Secured(running, made.secret, channel)
    finally:
        await running.stop(grace=0.2)
