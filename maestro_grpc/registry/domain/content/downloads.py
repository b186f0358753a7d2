"""DownloadArtifactContent and GetArtifactContentUrl: content out, by stream or by URL."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncGenerator
from datetime import timedelta

from maestro_grpc.blobs import BlobNotFound, BlobStore
from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.errors import DataLoss, OutOfRange
from maestro_grpc.registry.domain.content.rules import (
    check_same_content,
    no_content,
    urls_unsupported,
)
from maestro_grpc.registry.model import (
    Artifact,
    BlobState,
    ContentBlob,
    ContentUrl,
    Download,
    UrlMethod,
)
from maestro_grpc.registry.store.content_blobs import ContentBlobs
from maestro_grpc.registry.store.rows import artifact_not_found

log = logging.getLogger("maestro.content")


async def _no_chunks() -> AsyncGenerator[bytes, None]:
    return
    yield  # pragma: no cover - makes this an async generator


class ContentDownloads:
    """Downloads and presigned URLs over a blob store and the store's `content_blobs` rows."""

    def __init__(self, rows: ContentBlobs, blobs: BlobStore, *, clock: Clock = utcnow) -> None:
        self.rows = rows
        self.blobs = blobs
        self.clock = clock

    async def _content_of(self, artifact_id: uuid.UUID) -> tuple[Artifact, ContentBlob | None]:
        """The live artifact (or NOT_FOUND) and its blob, if that is stored."""
        artifact, blob = await self.rows.content_of(artifact_id)
        if artifact is None:
            raise artifact_not_found(artifact_id)
        if not artifact.content_stored:
            # Only declared: the bytes of that hash are not this artifact's to give.
            return artifact, None
        if blob is None or blob.state is not BlobState.PRESENT:
            return artifact, None
        return artifact, blob

    async def download(self, artifact_id: uuid.UUID, offset: int) -> Download:
        """The artifact's content from `offset`, with its SHA-256 and size."""
        _, blob = await self._content_of(artifact_id)
        if blob is None:
            raise no_content(artifact_id)
        if offset > blob.size_bytes:
            raise OutOfRange(
                f"offset {offset} is past the end of the content ({blob.size_bytes} bytes)",
                reason="OFFSET_OUT_OF_RANGE",
            )
        chunks = (
            self._chunks(artifact_id, blob.sha256, offset)
            if offset < blob.size_bytes
            else _no_chunks()
        )
        return Download(sha256=blob.sha256, size_bytes=blob.size_bytes, chunks=chunks)

    async def _chunks(
        self, artifact_id: uuid.UUID, sha256: str, offset: int
    ) -> AsyncGenerator[bytes, None]:
        try:
            async with contextlib.aclosing(self.blobs.read(sha256, offset)) as stream:
                async for chunk in stream:
                    yield chunk
        except BlobNotFound:
            log.error("blob %s of artifact %s is missing from the blob store", sha256, artifact_id)
            raise DataLoss(
                f"the content of artifact {artifact_id} is missing from the blob store",
                reason="CONTENT_MISSING",
            ) from None

    async def content_url(
        self, artifact_id: uuid.UUID, *, method: UrlMethod, sha256: str = "", expires_in: int
    ) -> ContentUrl:
        """A presigned GET of the artifact's content, or PUT for content hashing to `sha256`."""
        if not self.blobs.supports_urls:
            raise urls_unsupported(self.blobs)
        expire_time = self.clock() + timedelta(seconds=expires_in)
        artifact, blob = await self._content_of(artifact_id)
        if method is UrlMethod.GET:
            if blob is None:
                raise no_content(artifact_id)
            url = await self.blobs.presign_get(blob.sha256, expires_in)
        else:
            check_same_content(artifact, sha256)
            url = await self.blobs.presign_put(f"{artifact_id}/{sha256}", expires_in)
        return ContentUrl(
            url=url.url, method=url.method, expire_time=expire_time, headers=dict(url.headers)
        )
