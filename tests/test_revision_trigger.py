"""A change made with plain SQL moves the project's etag too (issue #18, item 15).

Before migration 0007 an operator's psql UPDATE reached every cache but kept
the old etag, so a later UpdateProject with that etag overwrote it silently.
"""

from __future__ import annotations

import grpc
from google.protobuf import field_mask_pb2
from sqlalchemy import text

from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.server import RunningServer
from tests.helpers import expect_error


async def test_an_update_with_the_etag_from_before_a_plain_sql_change_is_aborted(
    registry: registry_service_pb2_grpc.RegistryServiceStub, server: RunningServer
) -> None:
    project = (
        await registry.CreateProject(
            rs.CreateProjectRequest(project=pp.Project(name="ops", description="as made"))
        )
    ).project
    async with server.db.write() as conn:
        await conn.execute(
            text("UPDATE projects SET description = 'fixed by an operator' WHERE name = 'ops'")
        )
    stale = rs.UpdateProjectRequest(
        project=pp.Project(id=project.id, description="lost update", etag=project.etag),
        update_mask=field_mask_pb2.FieldMask(paths=["description"]),
    )
    await expect_error(registry.UpdateProject(stale), grpc.StatusCode.ABORTED)
    now = (await registry.GetProject(rs.GetProjectRequest(project_id=project.id))).project
    assert now.description == "fixed by an operator"
    assert now.etag != project.etag
    # The service's own updates still move it by one, once.
    fresh = rs.UpdateProjectRequest(
        project=pp.Project(id=project.id, description="agreed", etag=now.etag),
        update_mask=field_mask_pb2.FieldMask(paths=["description"]),
    )
    updated = (await registry.UpdateProject(fresh)).project
    assert updated.description == "agreed"
