"""A registry change reaches its followers' feeds even when its server dies right after the
commit: the feed's note was written in the change's own transaction (the outbox), and the
next server relays it.

A real `maestro serve` runs with the fault hook of `maestro_grpc/faults.py` that ends the
process (as SIGKILL would) where it would first relay the outbox into the feed: after
UpdateProject committed, before any event was recorded. A second server on the same store
then moves the note into the feed; the follower reads it with ListActivity.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from maestro.access.v1 import access_service_pb2 as ac
from maestro.access.v1 import access_service_pb2_grpc as acg
from maestro.people.v1 import collaboration_service_pb2 as cs
from maestro.people.v1 import collaboration_service_pb2_grpc as csg
from maestro.people.v1 import people_service_pb2 as ps
from maestro.people.v1 import people_service_pb2_grpc as psg
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from maestro_grpc.faults import EXIT_BEFORE_FEED_RELAY, EXIT_STATUS
from tests.agent.live import LiveServer
from tests.helpers import eventually_sync


def _stubs(address: str) -> tuple[grpc.Channel, Any, Any, Any, Any]:
    channel = grpc.insecure_channel(address)
    # The generated stubs are typed for grpc.aio; these calls are the sync ones.
    stubs: list[Any] = [
        rsg.RegistryServiceStub(channel),  # type: ignore[arg-type]
        psg.PeopleServiceStub(channel),  # type: ignore[arg-type]
        acg.AccessServiceStub(channel),  # type: ignore[arg-type]
        csg.CollaborationServiceStub(channel),  # type: ignore[arg-type]
    ]
    return channel, *stubs


def test_a_change_committed_before_its_server_died_reaches_the_feed(
    store_url: str, tmp_path: Path
) -> None:
    admin_token = "mae_" + secrets.token_hex(20)
    tokens = {"MAESTRO_AUTH_TOKENS": f"admin={admin_token}"}
    admin = [("authorization", f"Bearer {admin_token}")]
    dying = LiveServer(store_url, tmp_path / "a", **tokens, **{EXIT_BEFORE_FEED_RELAY: "1"})
    dying.start()
    channel, registry, people, access, collab = _stubs(dying.address)
    try:
        project = registry.CreateProject(
            rs.CreateProjectRequest(
                project=pp.Project(name="churn", status=pp.PROJECT_STATUS_ACTIVE)
            ),
            metadata=admin,
        ).project
        ada = people.CreatePerson(
            ps.CreatePersonRequest(
                person=ps.Person(display_name="Ada", email="ada@x.org", handle="ada")
            ),
            metadata=admin,
        ).person
        secret = access.CreateToken(
            ac.CreateTokenRequest(name="ada", role=ac.ROLE_READER, person_id=ada.id),
            metadata=admin,
        ).secret
        as_ada = [("authorization", f"Bearer {secret}")]
        collab.Follow(
            cs.FollowRequest(
                target=cs.FollowTarget(kind=cs.SUBJECT_KIND_PROJECT, subject_id=project.id)
            ),
            metadata=as_ada,
        )
        # The change commits; the server dies before it tells the feed.
        with pytest.raises(grpc.RpcError):
            registry.UpdateProject(
                rs.UpdateProjectRequest(
                    project=pp.Project(id=project.id, status=pp.PROJECT_STATUS_COMPLETED)
                ),
                metadata=admin,
            )
        assert dying.process is not None
        assert dying.process.wait(timeout=30) == EXIT_STATUS
    finally:
        channel.close()
        dying.kill()

    after = LiveServer(store_url, tmp_path / "b", **tokens).start()
    channel, registry, _, _, collab = _stubs(after.address)
    try:
        got = registry.GetProject(rs.GetProjectRequest(project_id=project.id), metadata=admin)
        assert got.project.status == pp.PROJECT_STATUS_COMPLETED  # the write stood

        def relayed() -> list[str]:
            found = collab.ListActivity(cs.ListActivityRequest(), metadata=as_ada)
            return [e.summary for e in found.events]

        summaries = eventually_sync(
            lambda: relayed() or None, "the change in Ada's feed", within=60.0
        )
        assert summaries == ["churn is now completed"]
        # Relayed once: a later relay (the next sweep, the next write's) adds nothing.
        registry.UpdateProject(
            rs.UpdateProjectRequest(
                project=pp.Project(id=project.id, description="done"),
                update_mask=FieldMask(paths=["description"]),
            ),
            metadata=admin,
        )
        assert relayed() == summaries
    finally:
        channel.close()
        after.stop()
