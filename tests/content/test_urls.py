"""GetArtifactContentUrl: presigned S3 URLs to move content outside gRPC."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest

from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from maestro_grpc.server import RunningServer
from tests.content.support import (
    MIB,
    download,
    leftovers,
    make_artifact,
    pattern,
    sha,
    stored,
    upload,
)
from tests.helpers import error_info, expect_error, expect_invalid

GET, PUT = rs.CONTENT_URL_METHOD_GET, rs.CONTENT_URL_METHOD_PUT


def _http(
    url: str, method: str, data: bytes | None = None, headers: Mapping[str, str] | None = None
) -> bytes:
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    with urllib.request.urlopen(request, timeout=30) as response:
        return bytes(response.read())


async def http(
    url: str, method: str, data: bytes | None = None, headers: Mapping[str, str] | None = None
) -> bytes:
    return await asyncio.to_thread(_http, url, method, data, headers)


async def content_url(
    registry: rsg.RegistryServiceStub, artifact_id: str, **fields: Any
) -> rs.GetArtifactContentUrlResponse:
    response: rs.GetArtifactContentUrlResponse = await registry.GetArtifactContentUrl(
        rs.GetArtifactContentUrlRequest(artifact_id=artifact_id, **fields)
    )
    return response


async def finish_url_upload(
    registry: rsg.RegistryServiceStub, artifact_id: str, digest: str, **header: Any
) -> rs.UploadArtifactContentResponse:
    async def messages() -> AsyncIterator[rs.UploadArtifactContentRequest]:
        yield rs.UploadArtifactContentRequest(
            header=rs.UploadHeader(
                artifact_id=artifact_id, declared_sha256=digest, uploaded_by_url=True, **header
            )
        )
        yield rs.UploadArtifactContentRequest(finish=rs.UploadFinish())

    return await registry.UploadArtifactContent(messages())


@pytest.mark.parametrize("blob_kind", ["s3"])
async def test_download_by_url(registry: rsg.RegistryServiceStub) -> None:
    data = pattern(3 * MIB, seed=20)
    artifact = await make_artifact(registry, "by-url")
    await upload(registry, artifact.id, data)
    before = datetime.now(UTC)
    response = await content_url(registry, artifact.id, expires_in_seconds=60)
    assert response.http_method == "GET"
    expire = response.expire_time.ToDatetime(tzinfo=UTC)
    assert before + timedelta(seconds=59) <= expire <= datetime.now(UTC) + timedelta(seconds=61)
    assert await http(response.url, "GET") == data
    # The default method is GET, and the default lifetime 15 minutes.
    default = await content_url(registry, artifact.id, method=GET)
    expire = default.expire_time.ToDatetime(tzinfo=UTC)
    assert expire - datetime.now(UTC) > timedelta(minutes=14)


@pytest.mark.parametrize("blob_kind", ["s3"])
async def test_upload_by_url_is_verified_then_adopted(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    data = pattern(6 * MIB + 5, seed=21)
    artifact = await make_artifact(registry, "put")
    response = await content_url(
        registry, artifact.id, method=PUT, declared_sha256=sha(data), declared_size_bytes=len(data)
    )
    assert response.http_method == "PUT"
    await http(response.url, "PUT", data, dict(response.headers))
    assert stored(server) == set()  # not at its address before it is verified
    done = await finish_url_upload(registry, artifact.id, sha(data), declared_size_bytes=len(data))
    assert done.artifact.content_sha256 == sha(data)
    assert not done.deduplicated
    assert stored(server) == {sha(data)}
    assert leftovers(server) == []
    assert (await download(registry, artifact.id))[2] == data

    # The same content for another artifact: the uploaded copy is dropped.
    twin = await make_artifact(registry, "put", "2")
    response = await content_url(registry, twin.id, method=PUT, declared_sha256=sha(data))
    await http(response.url, "PUT", data, dict(response.headers))
    done = await finish_url_upload(registry, twin.id, sha(data))
    assert done.deduplicated
    assert leftovers(server) == []


@pytest.mark.parametrize("blob_kind", ["s3"])
async def test_upload_by_url_with_other_bytes_keeps_nothing(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    data = pattern(MIB, seed=22)
    artifact = await make_artifact(registry, "liar")
    response = await content_url(registry, artifact.id, method=PUT, declared_sha256=sha(data))
    await http(response.url, "PUT", pattern(MIB, seed=23), dict(response.headers))
    await expect_invalid(
        finish_url_upload(registry, artifact.id, sha(data)), "header.declared_sha256"
    )
    assert stored(server) == set()
    assert leftovers(server) == []
    # Nothing is left to finish.
    error = await expect_error(
        finish_url_upload(registry, artifact.id, sha(data)), grpc.StatusCode.FAILED_PRECONDITION
    )
    assert error_info(error).reason == "CONTENT_URL_UPLOAD_MISSING"

    # A size that differs from the declared one.
    response = await content_url(registry, artifact.id, method=PUT, declared_sha256=sha(data))
    await http(response.url, "PUT", data, dict(response.headers))
    await expect_invalid(
        finish_url_upload(registry, artifact.id, sha(data), declared_size_bytes=len(data) + 1),
        "header.declared_size_bytes",
    )
    assert leftovers(server) == []


@pytest.mark.parametrize("blob_kind", ["s3"])
async def test_url_requests_are_checked(registry: rsg.RegistryServiceStub) -> None:
    artifact = await make_artifact(registry, "checked")
    found = await expect_invalid(
        content_url(registry, "x", method=PUT, declared_size_bytes=-1, expires_in_seconds=604_801),
        "artifact_id",
    )
    assert {"declared_sha256", "declared_size_bytes", "expires_in_seconds"} <= found.keys()
    await expect_invalid(content_url(registry, artifact.id, method=7), "method")
    await expect_invalid(
        content_url(registry, artifact.id, expires_in_seconds=-1), "expires_in_seconds"
    )
    error = await expect_error(
        content_url(registry, artifact.id), grpc.StatusCode.FAILED_PRECONDITION
    )
    assert error_info(error).reason == "CONTENT_NOT_UPLOADED"
    await expect_error(
        content_url(registry, "5d1e6ab5-9ad6-4d55-9d0b-1c0ff6f4d3a1"), grpc.StatusCode.NOT_FOUND
    )
    data = pattern(MIB, seed=24)
    await upload(registry, artifact.id, data)
    error = await expect_error(
        content_url(registry, artifact.id, method=PUT, declared_sha256=sha(b"other")),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert error_info(error).reason == "CONTENT_ALREADY_SET"

    # Finishing a URL upload: the header names the hash, and no chunks come.
    async def with_chunk() -> AsyncIterator[rs.UploadArtifactContentRequest]:
        yield rs.UploadArtifactContentRequest(
            header=rs.UploadHeader(
                artifact_id=artifact.id, uploaded_by_url=True, declared_sha256=sha(data)
            )
        )
        yield rs.UploadArtifactContentRequest(chunk=b"x")

    await expect_invalid(registry.UploadArtifactContent(with_chunk()), "chunk")
    await expect_invalid(finish_url_upload(registry, artifact.id, ""), "header.declared_sha256")


@pytest.mark.parametrize("blob_kind", ["file"])
async def test_the_file_store_has_no_urls(registry: rsg.RegistryServiceStub) -> None:
    data = pattern(MIB, seed=25)
    artifact = await make_artifact(registry, "local")
    await upload(registry, artifact.id, data)
    for method in (GET, PUT):
        error = await expect_error(
            content_url(registry, artifact.id, method=method, declared_sha256=sha(data)),
            grpc.StatusCode.FAILED_PRECONDITION,
        )
        assert error_info(error).reason == "CONTENT_URLS_UNSUPPORTED"
    error = await expect_error(
        finish_url_upload(registry, artifact.id, sha(data)), grpc.StatusCode.FAILED_PRECONDITION
    )
    assert error_info(error).reason == "CONTENT_URLS_UNSUPPORTED"
