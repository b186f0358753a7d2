"""UploadArtifactContent: store the streamed (or URL-uploaded) bytes as an artifact's content.

See this package's docstring for how the rows move; `_commit` is the heart of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

from maestro_grpc.blobs import BlobStore, BlobWriter
from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.errors import Aborted, FailedPrecondition, InvalidArgument, Unavailable
from maestro_grpc.registry.domain.content.receive import receive
from maestro_grpc.registry.domain.content.rules import (
    check_same_content,
    hash_stream,
    shielded,
    takes,
    urls_unsupported,
)
from maestro_grpc.registry.domain.project_cache import ProjectCache
from maestro_grpc.registry.model import Artifact, Finish, UploadResult, UploadSpec
from maestro_grpc.registry.store.content_blobs import BlobRef, Claim, ContentBlobs, Outcome
from maestro_grpc.registry.store.rows import artifact_not_found

# How long an upload waits for a blob the GC is removing (it then stores its
# own copy), before giving up with UNAVAILABLE.
DELETING_POLL_SECONDS = 0.2
DELETING_POLLS = 25


class ContentUploads:
    """Uploads over a blob store and the store's `content_blobs` rows."""

    def __init__(
        self,
        rows: ContentBlobs,
        blobs: BlobStore,
        *,
        clock: Clock = utcnow,
        cache: ProjectCache[Artifact] | None = None,
    ) -> None:
        self.rows = rows
        self.blobs = blobs
        self.clock = clock
        # GetArtifact's cache: an upload drops its artifact's entry as it ends,
        # so that the uploader reads the new content at once.
        self.cache: ProjectCache[Artifact] = cache if cache is not None else ProjectCache(0)

    async def upload(self, spec: UploadSpec, parts: AsyncIterator[bytes | Finish]) -> UploadResult:
        """Store the streamed bytes as the artifact's content."""
        try:
            return await self._upload(spec, parts)
        finally:
            self.cache.invalidate(spec.artifact_id)

    async def _upload(self, spec: UploadSpec, parts: AsyncIterator[bytes | Finish]) -> UploadResult:
        artifact = await self.rows.live_artifact(spec.artifact_id)
        if artifact is None:
            raise artifact_not_found(spec.artifact_id)
        check_same_content(artifact, spec.sha256)
        if spec.by_url:
            return await self._adopt_url_upload(spec, parts)
        known = bool(spec.sha256) and await self.rows.touch(spec.sha256, self.clock())
        writer = None if known else await self.blobs.writer(spec.sha256 or None, spec.size_bytes)
        try:
            digest, size = await receive(spec, parts, writer)
            check_same_content(artifact, digest)
            handoff, writer = writer, None
            return await shielded(self._commit(spec.artifact_id, digest, size, handoff))
        finally:
            if writer is not None:
                await shielded(writer.abort())

    async def _commit(
        self, artifact_id: uuid.UUID, digest: str, size: int, writer: BlobWriter | None
    ) -> UploadResult:
        """Reuse a present blob, or move our bytes to their address; link the artifact.

        `writer` None means the caller holds no bytes (it only hashed a blob
        it found present): if that blob was collected meanwhile, ABORTED.
        """
        blob = BlobRef(digest, size, self.blobs.uri(digest))
        committed = False
        try:
            claim = await self._claim(artifact_id, blob, stage=writer is not None)
            if claim.outcome is Outcome.REUSED:
                if writer is not None:
                    await writer.abort()
                committed = True
                assert claim.artifact is not None
                return UploadResult(artifact=claim.artifact, deduplicated=True)
            assert writer is not None
            await writer.commit(digest)
            committed = True
            settled = await self.rows.settle(
                artifact_id, blob, self.clock(), accepts=lambda a: takes(a, digest)
            )
            return UploadResult(
                artifact=self._linked(artifact_id, digest, settled), deduplicated=False
            )
        finally:
            if writer is not None and not committed:
                await writer.abort()

    async def _claim(self, artifact_id: uuid.UUID, blob: BlobRef, *, stage: bool) -> Claim:
        """A REUSED or STAGED claim on the blob, waiting while the GC removes it."""
        for _ in range(DELETING_POLLS):
            claim = await self.rows.claim(
                artifact_id,
                blob,
                self.clock(),
                accepts=lambda a: takes(a, blob.sha256),
                stage=stage,
            )
            if claim.outcome is Outcome.GONE:
                raise artifact_not_found(artifact_id)
            if claim.outcome is Outcome.CONFLICT:
                assert claim.artifact is not None
                check_same_content(claim.artifact, blob.sha256)
            if claim.outcome is Outcome.MISSING:
                raise Aborted(
                    "the stored content was garbage-collected while it was being "
                    "uploaded; upload it again",
                    reason="CONTENT_COLLECTED",
                )
            if claim.outcome is not Outcome.DELETING:
                return claim
            await asyncio.sleep(DELETING_POLL_SECONDS)  # the GC is finishing its removal
        raise Unavailable(
            "the content is being garbage-collected right now; retry in a moment",
            reason="CONTENT_BEING_COLLECTED",
            retry_delay_seconds=1.0,
        )

    @staticmethod
    def _linked(artifact_id: uuid.UUID, digest: str, settled: Claim) -> Artifact:
        """The artifact a settled upload linked; the blob is stored either way."""
        if settled.outcome is Outcome.COLLECTED:
            # Only when the upload outlasted the whole grace period.
            raise Aborted(
                "the upload took longer than the garbage collector's grace period "
                "and its content was collected; upload it again",
                reason="CONTENT_COLLECTED",
            )
        if settled.outcome is Outcome.GONE:
            raise artifact_not_found(artifact_id)
        assert settled.artifact is not None
        check_same_content(settled.artifact, digest)  # CONFLICT: the artifact changed meanwhile
        return settled.artifact

    async def _adopt_url_upload(
        self, spec: UploadSpec, parts: AsyncIterator[bytes | Finish]
    ) -> UploadResult:
        """Finish an upload PUT to a presigned URL: verify the bytes, then adopt them."""
        if not self.blobs.supports_urls:
            raise urls_unsupported(self.blobs)
        if not spec.sha256:
            raise InvalidArgument.for_field(
                "header.declared_sha256", "is required with uploaded_by_url"
            )
        await _only_finish(spec, parts)
        name = f"{spec.artifact_id}/{spec.sha256}"
        size = await self.blobs.incoming_size(name)
        if size is None:
            raise FailedPrecondition(
                f"nothing was uploaded to the URL of artifact {spec.artifact_id} for SHA-256 "
                f"{spec.sha256} (or it was removed after the grace period)",
                reason="CONTENT_URL_UPLOAD_MISSING",
            )
        incoming: BlobWriter | None = self.blobs.adopt_incoming(name)
        try:
            if spec.size_bytes is not None and size != spec.size_bytes:
                raise InvalidArgument.for_field(
                    "header.declared_size_bytes",
                    f"the uploaded content has {size} bytes, not the declared "
                    f"{spec.size_bytes}; it was discarded",
                )
            if await self.rows.touch(spec.sha256, self.clock()):
                # Already stored: the uploaded copy is not needed.
                return await shielded(self._commit(spec.artifact_id, spec.sha256, size, None))
            digest, _ = await hash_stream(self.blobs.read_incoming(name))
            if digest != spec.sha256:
                raise InvalidArgument.for_field(
                    "header.declared_sha256",
                    f"the content uploaded to the URL has SHA-256 {digest}, not the declared "
                    f"{spec.sha256}; it was discarded",
                )
            handoff, incoming = incoming, None
            return await shielded(self._commit(spec.artifact_id, digest, size, handoff))
        finally:
            if incoming is not None:
                with contextlib.suppress(Exception):
                    await shielded(incoming.abort())


async def _only_finish(spec: UploadSpec, parts: AsyncIterator[bytes | Finish]) -> None:
    """The stream of a URL upload: nothing but the finish message, agreeing with the header."""
    finish = None
    async for part in parts:
        if not isinstance(part, Finish):
            raise InvalidArgument.for_field(
                "chunk", "no chunks with uploaded_by_url: the bytes were PUT to the URL"
            )
        finish = part
        break
    if finish is None:
        raise InvalidArgument.for_field(
            "finish", "the stream ended without the finish message; nothing was kept"
        )
    if finish.sha256 and finish.sha256 != spec.sha256:
        raise InvalidArgument.for_field(
            "finish.declared_sha256", "differs from header.declared_sha256"
        )
