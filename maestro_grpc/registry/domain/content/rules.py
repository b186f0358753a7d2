"""What every content operation shares: the set-once rule, its errors, hashing off the loop."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import AsyncGenerator, Coroutine
from typing import Any, TypeVar

from maestro_grpc.blobs import BlobStore
from maestro_grpc.errors import FailedPrecondition
from maestro_grpc.registry.model import Artifact

T = TypeVar("T")


async def shielded(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to its end even if the caller is cancelled meanwhile."""
    return await asyncio.shield(asyncio.ensure_future(work))


def takes(artifact: Artifact, sha256: str) -> bool:
    """Whether the artifact may have this content: an artifact's content is set once."""
    return not (artifact.content_sha256 and sha256 and artifact.content_sha256 != sha256)


def check_same_content(artifact: Artifact, sha256: str) -> None:
    """FAILED_PRECONDITION unless the artifact `takes` this content (other bytes need a
    new version)."""
    if not takes(artifact, sha256):
        raise FailedPrecondition(
            f"artifact {artifact.id} already has content {artifact.content_sha256}; an "
            "artifact's content never changes (register a new version for new content)",
            reason="CONTENT_ALREADY_SET",
            metadata={"content_sha256": artifact.content_sha256},
        )


def no_content(artifact_id: uuid.UUID) -> FailedPrecondition:
    return FailedPrecondition(
        f"artifact {artifact_id} has no uploaded content (upload it with UploadArtifactContent)",
        reason="CONTENT_NOT_UPLOADED",
    )


def urls_unsupported(blobs: BlobStore) -> FailedPrecondition:
    return FailedPrecondition(
        f"the {blobs.kind} blob store cannot hand out URLs; move content with "
        "UploadArtifactContent and DownloadArtifactContent",
        reason="CONTENT_URLS_UNSUPPORTED",
    )


async def hash_stream(chunks: AsyncGenerator[bytes, None]) -> tuple[str, int]:
    """SHA-256 and size of a stream of chunks, hashed in a thread."""
    hasher = hashlib.sha256()
    size = 0
    async with contextlib.aclosing(chunks) as stream:
        async for chunk in stream:
            size += len(chunk)
            await asyncio.to_thread(hasher.update, chunk)
    return hasher.hexdigest(), size
