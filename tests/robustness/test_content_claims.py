"""Content is a caller's only by upload, never by naming it (#18, item 7).

Knowing a blob's hash was enough to read it (declare it on a new artifact,
then download); uploads answered with the server's absolute file path; and a
client could store any storage_uri, file:///etc/passwd included.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, AsyncIterator

import grpc

from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.server import RunningServer
from tests.helpers import expect_error, expect_invalid

Stub = registry_service_pb2_grpc.RegistryServiceStub


async def _artifact(registry: Stub, name: str, **fields: object) -> ap.Artifact:
    made = await registry.CreateArtifact(
        rs.CreateArtifactRequest(
            artifact=ap.Artifact(name=name, version="1", type=ap.ARTIFACT_TYPE_MODEL, **fields)  # type: ignore[arg-type]
        )
    )
    return made.artifact


async def _upload(
    registry: Stub, artifact_id: str, data: bytes
) -> rs.UploadArtifactContentResponse:
    async def requests() -> AsyncIterator[rs.UploadArtifactContentRequest]:
        yield rs.UploadArtifactContentRequest(header=rs.UploadHeader(artifact_id=artifact_id))
        yield rs.UploadArtifactContentRequest(chunk=data)
        yield rs.UploadArtifactContentRequest(finish=rs.UploadFinish())

    return await registry.UploadArtifactContent(requests())


async def test_knowing_a_hash_does_not_give_its_content(
    registry: Stub, server: RunningServer
) -> None:
    secret = b"the weights of someone else's model"
    owner = await _artifact(registry, "theirs")
    uploaded = await _upload(registry, owner.id, secret)
    assert not uploaded.artifact.storage_uri.startswith("file:")
    assert str(server.settings.data_dir.resolve()) not in uploaded.artifact.storage_uri

    digest = hashlib.sha256(secret).hexdigest()
    claimed = await _artifact(registry, "mine", content_sha256=digest)
    error = await expect_error(
        _drain(
            registry.DownloadArtifactContent(
                rs.DownloadArtifactContentRequest(artifact_id=claimed.id)
            )
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "upload" in (error.details() or "")
    # Uploading the very bytes proves possession: then it is the artifact's content.
    await _upload(registry, claimed.id, secret)
    got = b""
    async for part in registry.DownloadArtifactContent(
        rs.DownloadArtifactContentRequest(artifact_id=claimed.id)
    ):
        got += part.chunk
    assert got == secret


async def _drain(call: AsyncIterable[rs.DownloadArtifactContentResponse]) -> None:
    async for _ in call:
        pass


async def test_a_client_may_not_claim_a_server_location(registry: Stub) -> None:
    for uri in ("file:///etc/passwd", "maestro-blob:sha256/ab/cd", "/etc/passwd", "passwd"):
        await expect_invalid(
            registry.CreateArtifact(
                rs.CreateArtifactRequest(
                    artifact=ap.Artifact(
                        name="x", version="1", type=ap.ARTIFACT_TYPE_MODEL, storage_uri=uri
                    )
                )
            ),
            "artifact.storage_uri",
        )
    kept = await _artifact(registry, "elsewhere", storage_uri="s3://their-bucket/model.pt")
    assert kept.storage_uri == "s3://their-bucket/model.pt"
