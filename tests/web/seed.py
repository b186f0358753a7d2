"""Data for the web UI's tests, written through the public RPCs (as any client would)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from google.protobuf import struct_pb2

from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from tests.web.conftest import Maestro


def word() -> str:
    """A word no other test's data holds, to keep tests apart on a shared server."""
    return "w" + uuid.uuid4().hex[:10]


def project(maestro: Maestro, name: str, **fields: Any) -> pp.Project:
    request = rs.CreateProjectRequest(project=pp.Project(name=name, **fields))
    made: pp.Project = maestro.registry.CreateProject(request, metadata=maestro.auth).project
    return made


def artifact(
    maestro: Maestro,
    name: str,
    version: str = "1.0.0",
    *,
    meta: dict[str, Any] | None = None,
    **fields: Any,
) -> ap.Artifact:
    fields.setdefault("type", ap.ARTIFACT_TYPE_MODEL)
    if meta is not None:
        struct = struct_pb2.Struct()
        struct.update(meta)
        fields["metadata"] = struct
    request = rs.CreateArtifactRequest(artifact=ap.Artifact(name=name, version=version, **fields))
    made: ap.Artifact = maestro.registry.CreateArtifact(request, metadata=maestro.auth).artifact
    return made


def use(
    maestro: Maestro,
    artifact_id: str,
    project_id: str,
    outcome: ap.UsageOutcome,
    **fields: Any,
) -> None:
    usage = ap.ArtifactUsage(
        artifact_id=artifact_id, project_id=project_id, outcome=outcome, **fields
    )
    maestro.registry.LogArtifactUsage(
        rs.LogArtifactUsageRequest(artifact_usage=usage), metadata=maestro.auth
    )


def upload(maestro: Maestro, artifact_id: str, content: bytes) -> None:
    def messages() -> Iterator[rs.UploadArtifactContentRequest]:
        yield rs.UploadArtifactContentRequest(header=rs.UploadHeader(artifact_id=artifact_id))
        yield rs.UploadArtifactContentRequest(chunk=content)
        yield rs.UploadArtifactContentRequest(finish=rs.UploadFinish())

    maestro.registry.UploadArtifactContent(messages(), metadata=maestro.auth)
