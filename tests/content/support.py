"""What the content tests share: upload and download through the real client, and a
look into the blob store (what is stored, what is left over)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from maestro_grpc.blobs import BLOB_PREFIX, LocalBlobStore, S3BlobStore
from maestro_grpc.server import RunningServer

KIB = 1024
MIB = 1024 * KIB


def pattern(size: int, seed: int = 0) -> bytes:
    """`size` bytes that differ by seed (cheap to make, not compressible by accident)."""
    block = hashlib.sha256(f"seed-{seed}".encode()).digest() * 2048  # 64 KiB
    whole, rest = divmod(size, len(block))
    return block * whole + block[:rest]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class MovableClock:
    """The servers' and workers' clock in a test: the real time until the test sets `now`
    (`clock.now += HOUR`), then wherever the test put it."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = now

    @classmethod
    def frozen(cls) -> MovableClock:
        """A clock that stands at the present until moved."""
        return cls(datetime.now(UTC))

    def __call__(self) -> datetime:
        return self._now if self._now is not None else datetime.now(UTC)

    @property
    def now(self) -> datetime:
        return self()

    @now.setter
    def now(self, value: datetime) -> None:
        self._now = value


async def make_artifact(
    registry: rsg.RegistryServiceStub, name: str, version: str = "1.0", **fields: Any
) -> ap.Artifact:
    fields.setdefault("type", ap.ARTIFACT_TYPE_MODEL)
    response = await registry.CreateArtifact(
        rs.CreateArtifactRequest(artifact=ap.Artifact(name=name, version=version, **fields))
    )
    return response.artifact


def chunks_of(data: bytes, size: int) -> Iterable[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), size):
        yield bytes(view[start : start + size])


async def upload_messages(
    artifact_id: str,
    chunks: Iterable[bytes],
    *,
    declared_sha256: str = "",
    declared_size_bytes: int = 0,
    finish: bool = True,
    finish_sha256: str = "",
    by_url: bool = False,
) -> AsyncIterator[rs.UploadArtifactContentRequest]:
    yield rs.UploadArtifactContentRequest(
        header=rs.UploadHeader(
            artifact_id=artifact_id,
            declared_sha256=declared_sha256,
            declared_size_bytes=declared_size_bytes,
            uploaded_by_url=by_url,
        )
    )
    for chunk in chunks:
        yield rs.UploadArtifactContentRequest(chunk=chunk)
    if finish:
        yield rs.UploadArtifactContentRequest(finish=rs.UploadFinish(declared_sha256=finish_sha256))


async def upload(
    registry: rsg.RegistryServiceStub,
    artifact_id: str,
    data: bytes,
    *,
    chunk: int = 64 * KIB,
    **options: Any,
) -> rs.UploadArtifactContentResponse:
    response: rs.UploadArtifactContentResponse = await registry.UploadArtifactContent(
        upload_messages(artifact_id, chunks_of(data, chunk), **options)
    )
    return response


async def download(
    registry: rsg.RegistryServiceStub, artifact_id: str, offset: int = 0
) -> tuple[str, int, bytes]:
    """(sha256, size, bytes) of a download, checking that only the first message has the
    hash and size."""
    digest, size, parts = "", -1, []
    first = True
    async for message in registry.DownloadArtifactContent(
        rs.DownloadArtifactContentRequest(artifact_id=artifact_id, offset=offset)
    ):
        if first:
            digest, size, first = message.sha256, message.size_bytes, False
        else:
            assert (message.sha256, message.size_bytes) == ("", 0)
        parts.append(message.chunk)
    return digest, size, b"".join(parts)


def stored(server: RunningServer) -> set[str]:
    """The SHA-256 of every blob at its address in the server's blob store."""
    blobs = server.ctx.blobs
    if isinstance(blobs, LocalBlobStore):
        root = blobs.root / BLOB_PREFIX
        return {p.parent.name + p.name for p in root.glob("*/*")} if root.exists() else set()
    assert isinstance(blobs, S3BlobStore)
    found = set()
    pages = blobs.client.get_paginator("list_objects_v2")
    try:
        for page in pages.paginate(Bucket=blobs.bucket, Prefix=BLOB_PREFIX):
            for item in page.get("Contents", []):
                found.add(item["Key"].removeprefix(BLOB_PREFIX).replace("/", ""))
    except blobs.client.exceptions.NoSuchBucket:
        return set()
    return found


def leftovers(server: RunningServer) -> list[str]:
    """What unfinished uploads left: temporary files, staging objects, multipart uploads."""
    blobs = server.ctx.blobs
    if isinstance(blobs, LocalBlobStore):
        return sorted(str(p) for p in blobs.tmp.glob("*")) if blobs.tmp.exists() else []
    assert isinstance(blobs, S3BlobStore)
    found = []
    try:
        for upload_ in blobs.client.list_multipart_uploads(Bucket=blobs.bucket).get("Uploads", []):
            found.append(f"multipart:{upload_['Key']}")
        listing = blobs.client.list_objects_v2(Bucket=blobs.bucket)
    except blobs.client.exceptions.NoSuchBucket:
        return []
    found += [
        item["Key"]
        for item in listing.get("Contents", [])
        if not item["Key"].startswith(BLOB_PREFIX)
    ]
    return sorted(found)


def storing(server: RunningServer) -> bool:
    """Whether an upload's bytes are on their way into the blob store: a temporary file, or
    a multipart upload with a part in it."""
    blobs = server.ctx.blobs
    if isinstance(blobs, LocalBlobStore):
        return bool(leftovers(server))
    assert isinstance(blobs, S3BlobStore)
    for upload_ in blobs.client.list_multipart_uploads(Bucket=blobs.bucket).get("Uploads", []):
        parts = blobs.client.list_parts(
            Bucket=blobs.bucket, Key=upload_["Key"], UploadId=upload_["UploadId"]
        )
        if parts.get("Parts"):
            return True
    return False
