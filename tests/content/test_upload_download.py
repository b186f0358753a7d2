"""UploadArtifactContent and DownloadArtifactContent through a real server, on both
stores and both blob stores."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc

from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from maestro_grpc.blobs import LocalBlobStore
from maestro_grpc.server import RunningServer
from tests.content.support import (
    KIB,
    MIB,
    chunks_of,
    download,
    leftovers,
    make_artifact,
    pattern,
    sha,
    stored,
    storing,
    upload,
    upload_messages,
)
from tests.helpers import error_info, eventually, expect_error, expect_invalid


async def test_round_trip_of_a_large_file_in_small_chunks(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    data = pattern(20 * MIB + 12345)
    artifact = await make_artifact(registry, "resnet")
    response = await upload(registry, artifact.id, data, chunk=64 * KIB)
    assert not response.deduplicated
    assert response.artifact.content_sha256 == sha(data)
    assert response.artifact.size_bytes == len(data)
    assert response.artifact.storage_uri.endswith(f"sha256/{sha(data)[:2]}/{sha(data)[2:]}")
    got = (await registry.GetArtifact(rs.GetArtifactRequest(artifact_id=artifact.id))).artifact
    assert got.content_sha256 == sha(data)

    digest, size, body = await download(registry, artifact.id)
    assert (digest, size) == (sha(data), len(data))
    assert sha(body) == sha(data)
    assert stored(server) == {sha(data)}
    assert leftovers(server) == []


async def test_download_resumes_from_an_offset(registry: rsg.RegistryServiceStub) -> None:
    data = pattern(3 * MIB + 7, seed=1)
    artifact = await make_artifact(registry, "tokenizer")
    await upload(registry, artifact.id, data)
    offset = 2 * MIB + 3
    digest, size, body = await download(registry, artifact.id, offset)
    assert (digest, size) == (sha(data), len(data))
    assert body == data[offset:]
    # At the very end: the hash and size, and no bytes.
    assert await download(registry, artifact.id, len(data)) == (sha(data), len(data), b"")
    error = await expect_error(
        download(registry, artifact.id, len(data) + 1), grpc.StatusCode.OUT_OF_RANGE
    )
    assert error_info(error).reason == "OFFSET_OUT_OF_RANGE"
    await expect_invalid(download(registry, artifact.id, -1), "offset")


async def test_identical_bytes_are_stored_once(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    data = pattern(1 * MIB + 1, seed=2)
    first = await make_artifact(registry, "emb", "1")
    second = await make_artifact(registry, "emb", "2")
    third = await make_artifact(registry, "emb", "3")
    assert not (await upload(registry, first.id, data)).deduplicated
    # Without a declared hash: the bytes are hashed, found stored, and dropped.
    again = await upload(registry, second.id, data)
    assert again.deduplicated
    assert again.artifact.content_sha256 == sha(data)
    # With the hash declared: nothing is written at all, the bytes are only hashed.
    declared = await upload(registry, third.id, data, declared_sha256=sha(data))
    assert declared.deduplicated
    assert stored(server) == {sha(data)}
    assert leftovers(server) == []
    for artifact in (first, second, third):
        assert (await download(registry, artifact.id))[2] == data


async def test_declared_hash_and_size_that_match_are_accepted(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    data = pattern(9 * MIB, seed=3)
    artifact = await make_artifact(registry, "ds")
    response = await upload(
        registry,
        artifact.id,
        data,
        chunk=256 * KIB,
        declared_sha256=sha(data),
        declared_size_bytes=len(data),
        finish_sha256=sha(data),
    )
    assert response.artifact.content_sha256 == sha(data)
    assert stored(server) == {sha(data)}


async def test_empty_content(registry: rsg.RegistryServiceStub) -> None:
    artifact = await make_artifact(registry, "empty")
    response = await upload(registry, artifact.id, b"")
    assert response.artifact.content_sha256 == sha(b"")
    assert response.artifact.size_bytes == 0
    assert await download(registry, artifact.id) == (sha(b""), 0, b"")


async def test_a_wrong_declared_hash_keeps_nothing(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    data = pattern(10 * MIB, seed=4)
    artifact = await make_artifact(registry, "bad")
    wrong = sha(b"something else")
    found = await expect_invalid(
        upload(registry, artifact.id, data, declared_sha256=wrong), "header.declared_sha256"
    )
    assert sha(data) in found["header.declared_sha256"]
    await expect_invalid(
        upload(registry, artifact.id, data, finish_sha256=wrong), "finish.declared_sha256"
    )
    await expect_invalid(
        upload(registry, artifact.id, data, declared_sha256=sha(data), finish_sha256=wrong),
        "finish.declared_sha256",
    )
    got = (await registry.GetArtifact(rs.GetArtifactRequest(artifact_id=artifact.id))).artifact
    assert (got.content_sha256, got.size_bytes, got.storage_uri) == ("", 0, "")
    assert stored(server) == set()
    assert leftovers(server) == []
    error = await expect_error(download(registry, artifact.id), grpc.StatusCode.FAILED_PRECONDITION)
    assert error_info(error).reason == "CONTENT_NOT_UPLOADED"


async def test_a_wrong_declared_size_keeps_nothing(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    data = pattern(2 * MIB, seed=5)
    artifact = await make_artifact(registry, "sized")
    for declared in (len(data) - 1, len(data) + 1):
        await expect_invalid(
            upload(registry, artifact.id, data, declared_size_bytes=declared),
            "header.declared_size_bytes",
        )
    assert stored(server) == set()
    assert leftovers(server) == []


async def test_a_wrong_hash_of_stored_content_keeps_nothing(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    """Declaring a stored blob's hash and sending other bytes changes nothing."""
    data = pattern(MIB, seed=6)
    owner = await make_artifact(registry, "owner")
    await upload(registry, owner.id, data)
    other = await make_artifact(registry, "other")
    await expect_invalid(
        upload(registry, other.id, pattern(MIB, seed=7), declared_sha256=sha(data)),
        "header.declared_sha256",
    )
    got = (await registry.GetArtifact(rs.GetArtifactRequest(artifact_id=other.id))).artifact
    assert got.content_sha256 == ""
    assert stored(server) == {sha(data)}


async def test_an_interrupted_upload_leaves_nothing(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    artifact = await make_artifact(registry, "interrupted")
    sent, never = asyncio.Event(), asyncio.Event()

    async def requests() -> AsyncIterator[rs.UploadArtifactContentRequest]:
        yield rs.UploadArtifactContentRequest(header=rs.UploadHeader(artifact_id=artifact.id))
        for chunk in chunks_of(pattern(12 * MIB, seed=8), 256 * KIB):
            yield rs.UploadArtifactContentRequest(chunk=chunk)
        sent.set()
        await never.wait()  # the client goes away before finishing

    call = registry.UploadArtifactContent(requests())
    await sent.wait()
    # A part stored, not just the multipart upload created: a cancel that lands while
    # S3 creates it leaves the upload to the GC's sweep (the writer never learns its id).
    await eventually(lambda: storing(server), "the server is storing the bytes")
    call.cancel()
    assert (await call.code()) == grpc.StatusCode.CANCELLED
    await eventually(lambda: leftovers(server) == [], "the unfinished upload is cleaned up")
    assert stored(server) == set()
    got = (await registry.GetArtifact(rs.GetArtifactRequest(artifact_id=artifact.id))).artifact
    assert got.content_sha256 == ""


async def test_a_stream_without_its_finish_message_keeps_nothing(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    artifact = await make_artifact(registry, "unfinished")
    await expect_invalid(
        registry.UploadArtifactContent(
            upload_messages(artifact.id, chunks_of(pattern(3 * MIB), 64 * KIB), finish=False)
        ),
        "finish",
    )
    assert stored(server) == set()
    assert leftovers(server) == []


async def test_content_is_set_once(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    data = pattern(MIB, seed=9)
    artifact = await make_artifact(registry, "frozen")
    await upload(registry, artifact.id, data)
    # The same bytes again: fine, nothing changes.
    again = await upload(registry, artifact.id, data)
    assert again.deduplicated
    assert again.artifact.content_sha256 == sha(data)
    # Other bytes: refused, whether declared up front or found at the end.
    other = pattern(MIB, seed=10)
    declarations: list[dict[str, Any]] = [{}, {"declared_sha256": sha(other)}]
    for options in declarations:
        error = await expect_error(
            upload(registry, artifact.id, other, **options), grpc.StatusCode.FAILED_PRECONDITION
        )
        assert error_info(error).reason == "CONTENT_ALREADY_SET"
    assert stored(server) == {sha(data)}
    assert leftovers(server) == []


async def test_an_artifact_declared_with_a_hash_takes_only_that_content(
    registry: rsg.RegistryServiceStub,
) -> None:
    data = pattern(MIB, seed=11)
    artifact = await make_artifact(registry, "declared", content_sha256=sha(data))
    error = await expect_error(
        upload(registry, artifact.id, pattern(MIB, seed=12)), grpc.StatusCode.FAILED_PRECONDITION
    )
    assert error_info(error).reason == "CONTENT_ALREADY_SET"
    # The declared content has not been uploaded yet.
    await expect_error(download(registry, artifact.id), grpc.StatusCode.FAILED_PRECONDITION)
    response = await upload(registry, artifact.id, data)
    assert response.artifact.size_bytes == len(data)
    assert (await download(registry, artifact.id))[2] == data


async def test_bad_requests(registry: rsg.RegistryServiceStub, server: RunningServer) -> None:
    artifact = await make_artifact(registry, "strict")

    async def only(
        *messages: rs.UploadArtifactContentRequest,
    ) -> AsyncIterator[rs.UploadArtifactContentRequest]:
        for message in messages:
            yield message

    header = rs.UploadArtifactContentRequest(header=rs.UploadHeader(artifact_id=artifact.id))
    finish = rs.UploadArtifactContentRequest(finish=rs.UploadFinish())
    await expect_invalid(registry.UploadArtifactContent(only()), "header")
    await expect_invalid(
        registry.UploadArtifactContent(only(rs.UploadArtifactContentRequest(chunk=b"x"))),
        "header",
    )
    found = await expect_invalid(
        registry.UploadArtifactContent(
            only(
                rs.UploadArtifactContentRequest(
                    header=rs.UploadHeader(
                        artifact_id="nope", declared_sha256="ABC", declared_size_bytes=-1
                    )
                )
            )
        ),
        "header.artifact_id",
    )
    assert {"header.declared_sha256", "header.declared_size_bytes"} <= found.keys()
    await expect_invalid(registry.UploadArtifactContent(only(header, header, finish)), "header")
    await expect_invalid(
        registry.UploadArtifactContent(
            only(header, rs.UploadArtifactContentRequest(chunk=b"x" * (4 * MIB + 1)), finish)
        ),
        "chunk",
    )
    await expect_invalid(
        registry.UploadArtifactContent(only(header, rs.UploadArtifactContentRequest(), finish)),
        "part",
    )
    await expect_invalid(
        registry.UploadArtifactContent(
            only(
                header,
                rs.UploadArtifactContentRequest(finish=rs.UploadFinish(declared_sha256="zz")),
            )
        ),
        "finish.declared_sha256",
    )
    missing = "5d1e6ab5-9ad6-4d55-9d0b-1c0ff6f4d3a1"
    error = await expect_error(upload(registry, missing, b"abc"), grpc.StatusCode.NOT_FOUND)
    assert error_info(error).reason == "ARTIFACT_NOT_FOUND"
    await expect_error(download(registry, missing), grpc.StatusCode.NOT_FOUND)
    await expect_invalid(download(registry, "nope"), "artifact_id")
    assert stored(server) == set()
    assert leftovers(server) == []


async def test_deleted_artifacts_have_no_content_to_move(registry: rsg.RegistryServiceStub) -> None:
    data = pattern(MIB, seed=13)
    artifact = await make_artifact(registry, "gone")
    await upload(registry, artifact.id, data)
    await registry.DeleteArtifact(rs.DeleteArtifactRequest(artifact_id=artifact.id))
    await expect_error(download(registry, artifact.id), grpc.StatusCode.NOT_FOUND)
    # The server refuses right after the header. Send only the header and
    # wait: a grpc.aio client still writing chunks when the status arrives
    # may report INTERNAL instead of the server's code (grpc/grpc#36066).
    call = registry.UploadArtifactContent()  # type: ignore[call-arg]  # written to below
    await call.write(
        rs.UploadArtifactContentRequest(header=rs.UploadHeader(artifact_id=artifact.id))
    )
    await expect_error(call, grpc.StatusCode.NOT_FOUND)


async def test_a_cancelled_download_releases_the_blob(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    data = pattern(16 * MIB, seed=14)
    artifact = await make_artifact(registry, "abandoned")
    await upload(registry, artifact.id, data)
    call = registry.DownloadArtifactContent(
        rs.DownloadArtifactContentRequest(artifact_id=artifact.id)
    )
    first = await call.read()
    assert isinstance(first, rs.DownloadArtifactContentResponse)
    assert first.sha256 == sha(data)
    call.cancel()
    blobs = server.ctx.blobs
    if isinstance(blobs, LocalBlobStore):
        import psutil

        path = str(blobs.path(sha(data)))
        await eventually(
            lambda: path not in {f.path for f in psutil.Process().open_files()},
            "the server closes the blob",
        )
    # The server goes on serving.
    assert (await download(registry, artifact.id))[2] == data
