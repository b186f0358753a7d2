"""Artifact content: uploads, downloads, presigned URLs, dedup and garbage collection.

Content is stored once per SHA-256 in the blob store (`maestro_grpc.blobs`);
the `content_blobs` table says which blobs exist and in what state, and an
artifact refers to its blob by `artifacts.content_sha256`.

How a blob's row moves, and why uploads and the GC never step on each other:
- an upload hashes every byte as it arrives (in a thread), into a writer
  that keeps them invisible until commit; a declared hash or size that
  differs drops them (INVALID_ARGUMENT), so does a stream that ends without
  its finish message (a cancelled client);
- a verified upload locks the artifact's row and the blob's row: a `present`
  blob is reused (dedup: its reference_time is renewed and our bytes are
  dropped); otherwise the row becomes `pending`, the bytes move to their
  address, and a second short transaction marks it `present` and points the
  artifact at it;
- when the client declared the hash of a blob already present, the upload
  only hashes (nothing is stored) and renews the blob's reference_time
  first, so the GC leaves it alone while the bytes stream in;
- the GC (run by the indexer) marks `unreferenced_since` on blobs no live
  artifact refers to, and clears it when one does again. It removes a blob
  once it has been unreferenced and untouched by any upload for the whole
  grace period: with the blob's row locked it re-checks all of that, marks
  the row `deleting`, removes the bytes, then deletes the row. An upload
  that meets a `deleting` row waits for it to go, then stores its own copy.
  `pending` rows older than the grace period (a crashed upload) go the same
  way.
A client that names a content_sha256 in CreateArtifact or UpdateArtifact
without uploading takes no lock; if it names a blob at the very moment the
GC removes it, after a whole grace period unreferenced, the artifact is left
without content (downloads say FAILED_PRECONDITION) until it is uploaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Row, and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.blobs import BlobNotFound, BlobStore, BlobWriter
from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.errors import (
    Aborted,
    DataLoss,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    OutOfRange,
    Unavailable,
)
from maestro_grpc.registry.artifacts import ARTIFACT_COLUMNS, artifact_from_row
from maestro_grpc.registry.model import Artifact
from maestro_grpc.registry.store.tables import artifacts, content_blobs
from maestro_grpc.store.db import Database

log = logging.getLogger("maestro.content")

T = TypeVar("T")

PENDING, PRESENT, DELETING = "pending", "present", "deleting"
VERIFY_OK, VERIFY_MISMATCH, VERIFY_MISSING = "ok", "mismatch", "missing"

# Received chunks are hashed and written in batches of about this many bytes
# (fewer thread hops for small chunks), with up to RECEIVE_AHEAD messages
# read from the stream meanwhile.
BATCH_BYTES = 1 << 20
RECEIVE_AHEAD = 8
DEFAULT_URL_SECONDS = 900
MAX_URL_SECONDS = 604_800
# How long an upload waits for a blob the GC is removing (it then stores its
# own copy), before giving up with UNAVAILABLE.
DELETING_POLL_SECONDS = 0.2
DELETING_POLLS = 25


@dataclass(frozen=True)
class Finish:
    """The end of an upload's stream, with the hash the client computed while sending."""

    sha256: str = ""


@dataclass(frozen=True)
class UploadSpec:
    """An upload's header: which artifact, and what the client declares."""

    artifact_id: uuid.UUID
    sha256: str = ""
    size_bytes: int | None = None
    by_url: bool = False


@dataclass(frozen=True)
class UploadResult:
    artifact: Artifact
    deduplicated: bool


@dataclass
class Download:
    sha256: str
    size_bytes: int
    chunks: AsyncGenerator[bytes, None]


@dataclass(frozen=True)
class ContentUrl:
    url: str
    method: str
    expire_time: datetime
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class GcReport:
    """What one GC pass did."""

    marked: int = 0
    cleared: int = 0
    deleted: int = 0
    deleted_bytes: int = 0
    swept: int = 0
    failed: int = 0


@dataclass
class VerifyReport:
    """What one verification pass found, and how many blobs are known bad in all."""

    ok: int = 0
    mismatch: int = 0
    missing: int = 0
    bad_total: int = 0


async def _shielded(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to its end even if the caller is cancelled meanwhile."""
    return await asyncio.shield(asyncio.ensure_future(work))


async def _no_chunks() -> AsyncGenerator[bytes, None]:
    return
    yield  # pragma: no cover - makes this an async generator


def _not_found(artifact_id: uuid.UUID) -> NotFound:
    return NotFound(f"artifact {artifact_id} not found", reason="ARTIFACT_NOT_FOUND")


def _no_content(artifact_id: uuid.UUID) -> FailedPrecondition:
    return FailedPrecondition(
        f"artifact {artifact_id} has no uploaded content (upload it with UploadArtifactContent)",
        reason="CONTENT_NOT_UPLOADED",
    )


def _check_same_content(artifact: Artifact, sha256: str) -> None:
    """An artifact's content is set once: other bytes need a new version."""
    if artifact.content_sha256 and sha256 and artifact.content_sha256 != sha256:
        raise FailedPrecondition(
            f"artifact {artifact.id} already has content {artifact.content_sha256}; an "
            "artifact's content never changes (register a new version for new content)",
            reason="CONTENT_ALREADY_SET",
            metadata={"content_sha256": artifact.content_sha256},
        )


def _live_reference() -> Any:
    """Whether a live artifact refers to the blob of the current content_blobs row."""
    return exists().where(
        artifacts.c.content_sha256 == content_blobs.c.sha256, artifacts.c.delete_time.is_(None)
    )


class ArtifactContent:
    """Artifact content over a blob store and the store's `content_blobs` rows."""

    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        *,
        gc_grace: timedelta = timedelta(days=1),
        clock: Clock = utcnow,
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.gc_grace = gc_grace
        self.clock = clock

    # ---- rows ------------------------------------------------------------------

    async def _artifact(
        self, conn: AsyncConnection, artifact_id: uuid.UUID, *, lock: bool = False
    ) -> Artifact | None:
        """The live artifact, or None (locked for the transaction with `lock`)."""
        query = select(*ARTIFACT_COLUMNS).where(artifacts.c.id == artifact_id)
        if lock:
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        if row is None or row.delete_time is not None:
            return None
        return artifact_from_row(row)

    async def _blob(self, conn: AsyncConnection, sha256: str, *, lock: bool = False) -> Any:
        query = select(content_blobs).where(content_blobs.c.sha256 == sha256)
        if lock:
            query = query.with_for_update()
        row: Row[Any] | None = (await conn.execute(query)).first()
        return row

    async def _live_artifact(self, artifact_id: uuid.UUID) -> Artifact:
        async with self.db.read() as conn:
            artifact = await self._artifact(conn, artifact_id)
        if artifact is None:
            raise _not_found(artifact_id)
        return artifact

    async def _touch(self, sha256: str) -> bool:
        """Renew a present blob's reference_time (the GC then leaves it for a grace period)."""
        async with self.db.write() as conn:
            result = await conn.execute(
                update(content_blobs)
                .where(content_blobs.c.sha256 == sha256, content_blobs.c.state == PRESENT)
                .values(reference_time=self.clock())
            )
            return bool(result.rowcount == 1)

    async def _link(
        self, conn: AsyncConnection, artifact: Artifact, sha256: str, size: int, now: datetime
    ) -> Artifact:
        """Point the artifact at the blob (in the caller's transaction)."""
        uri = self.blobs.uri(sha256)
        if (artifact.content_sha256, artifact.size_bytes, artifact.storage_uri) == (
            sha256,
            size,
            uri,
        ):
            return artifact
        await conn.execute(
            update(artifacts)
            .where(artifacts.c.id == artifact.id)
            .values(content_sha256=sha256, size_bytes=size, storage_uri=uri, update_time=now)
        )
        linked = await self._artifact(conn, artifact.id)
        assert linked is not None
        return linked

    # ---- upload ----------------------------------------------------------------

    async def upload(self, spec: UploadSpec, parts: AsyncIterator[bytes | Finish]) -> UploadResult:
        """Store the streamed bytes as the artifact's content (see the module docstring)."""
        artifact = await self._live_artifact(spec.artifact_id)
        _check_same_content(artifact, spec.sha256)
        if spec.by_url:
            return await self._adopt_url_upload(spec, parts)
        known = bool(spec.sha256) and await self._touch(spec.sha256)
        writer = None if known else await self.blobs.writer(spec.sha256 or None, spec.size_bytes)
        try:
            digest, size = await self._receive(spec, parts, writer)
            _check_same_content(artifact, digest)
            handoff, writer = writer, None
            return await _shielded(self._commit(spec.artifact_id, digest, size, handoff))
        finally:
            if writer is not None:
                await _shielded(writer.abort())

    async def _receive(
        self, spec: UploadSpec, parts: AsyncIterator[bytes | Finish], writer: BlobWriter | None
    ) -> tuple[str, int]:
        """Hash (and write) every chunk until the finish message; check what was declared."""
        hasher = hashlib.sha256()
        size = 0
        queue: asyncio.Queue[bytes | Finish | BaseException | None] = asyncio.Queue(RECEIVE_AHEAD)

        async def pump() -> None:
            # Read the stream promptly, so receiving overlaps hashing and writing.
            try:
                async for part in parts:
                    await queue.put(part)
                    if isinstance(part, Finish):
                        return
                await queue.put(None)
            except Exception as error:
                await queue.put(error)

        pumping = asyncio.create_task(pump())
        finish: Finish | None = None
        try:
            while finish is None:
                item = await queue.get()
                batch: list[bytes] = []
                batched = 0
                while True:
                    if item is None:
                        raise InvalidArgument.for_field(
                            "finish",
                            "the stream ended without the finish message (was the upload "
                            "cancelled?); nothing was kept",
                        )
                    if isinstance(item, BaseException):
                        raise item
                    if isinstance(item, Finish):
                        finish = item
                        break
                    batch.append(item)
                    batched += len(item)
                    if batched >= BATCH_BYTES or queue.empty():
                        break
                    item = queue.get_nowait()
                if not batch:
                    continue
                size += batched
                if spec.size_bytes is not None and size > spec.size_bytes:
                    raise InvalidArgument.for_field(
                        "header.declared_size_bytes",
                        f"the content is longer than the declared {spec.size_bytes} bytes; "
                        "nothing was kept",
                    )
                data = batch[0] if len(batch) == 1 else b"".join(batch)
                if writer is None:
                    await asyncio.to_thread(hasher.update, data)
                else:
                    await asyncio.gather(asyncio.to_thread(hasher.update, data), writer.write(data))
        finally:
            pumping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pumping

        digest = hasher.hexdigest()
        if finish.sha256 and spec.sha256 and finish.sha256 != spec.sha256:
            raise InvalidArgument.for_field(
                "finish.declared_sha256", "differs from header.declared_sha256"
            )
        for declared, where in ((spec.sha256, "header"), (finish.sha256, "finish")):
            if declared and declared != digest:
                raise InvalidArgument.for_field(
                    f"{where}.declared_sha256",
                    f"the content's SHA-256 is {digest}, not the declared {declared}; "
                    "nothing was kept",
                )
        if spec.size_bytes is not None and size != spec.size_bytes:
            raise InvalidArgument.for_field(
                "header.declared_size_bytes",
                f"the content has {size} bytes, not the declared {spec.size_bytes}; "
                "nothing was kept",
            )
        return digest, size

    async def _commit(
        self, artifact_id: uuid.UUID, digest: str, size: int, writer: BlobWriter | None
    ) -> UploadResult:
        """Reuse a present blob, or move our bytes to their address; link the artifact.

        `writer` None means the caller holds no bytes (it only hashed a blob
        it found present): if that blob was collected meanwhile, ABORTED.
        """
        committed = False
        try:
            reused: Artifact | None = None
            for _ in range(DELETING_POLLS):
                now = self.clock()
                async with self.db.write() as conn:
                    artifact = await self._artifact(conn, artifact_id, lock=True)
                    if artifact is None:
                        raise _not_found(artifact_id)
                    _check_same_content(artifact, digest)
                    row = await self._blob(conn, digest, lock=True)
                    if row is not None and row.state == PRESENT:
                        await conn.execute(
                            update(content_blobs)
                            .where(content_blobs.c.sha256 == digest)
                            .values(reference_time=now, unreferenced_since=None)
                        )
                        reused = await self._link(conn, artifact, digest, row.size_bytes, now)
                        break
                    if row is not None and row.state == DELETING:
                        pass  # wait for the GC to finish removing it (below)
                    elif writer is None:
                        raise Aborted(
                            "the stored content was garbage-collected while it was being "
                            "uploaded; upload it again",
                            reason="CONTENT_COLLECTED",
                        )
                    else:
                        insert = pg_insert if self.db.is_postgres else sqlite_insert
                        statement = insert(content_blobs).values(
                            sha256=digest,
                            size_bytes=size,
                            state=PENDING,
                            create_time=now,
                            reference_time=now,
                        )
                        await conn.execute(
                            statement.on_conflict_do_update(
                                index_elements=[content_blobs.c.sha256],
                                set_={"reference_time": now},
                            )
                        )
                        break
                await asyncio.sleep(DELETING_POLL_SECONDS)
            else:
                raise Unavailable(
                    "the content is being garbage-collected right now; retry in a moment",
                    reason="CONTENT_BEING_COLLECTED",
                    retry_delay_seconds=1.0,
                )
            if reused is not None:
                if writer is not None:
                    await writer.abort()
                committed = True
                return UploadResult(artifact=reused, deduplicated=True)

            assert writer is not None
            await writer.commit(digest)
            committed = True
            now = self.clock()
            async with self.db.write() as conn:
                artifact = await self._artifact(conn, artifact_id, lock=True)
                row = await self._blob(conn, digest, lock=True)
                if row is None or row.state == DELETING:
                    # Only when the upload outlasted the whole grace period.
                    raise Aborted(
                        "the upload took longer than the garbage collector's grace period "
                        "and its content was collected; upload it again",
                        reason="CONTENT_COLLECTED",
                    )
                await conn.execute(
                    update(content_blobs)
                    .where(content_blobs.c.sha256 == digest)
                    .values(
                        state=PRESENT,
                        size_bytes=size,
                        reference_time=now,
                        unreferenced_since=None,
                    )
                )
                linked = None
                if artifact is not None and not (
                    artifact.content_sha256 and artifact.content_sha256 != digest
                ):
                    linked = await self._link(conn, artifact, digest, size, now)
            # The blob is stored either way; the artifact changed meanwhile.
            if artifact is None:
                raise _not_found(artifact_id)
            if linked is None:
                _check_same_content(artifact, digest)
            assert linked is not None
            return UploadResult(artifact=linked, deduplicated=False)
        finally:
            if writer is not None and not committed:
                await writer.abort()

    async def _adopt_url_upload(
        self, spec: UploadSpec, parts: AsyncIterator[bytes | Finish]
    ) -> UploadResult:
        """Finish an upload PUT to a presigned URL: verify the bytes, then adopt them."""
        if not self.blobs.supports_urls:
            raise self._urls_unsupported()
        if not spec.sha256:
            raise InvalidArgument.for_field(
                "header.declared_sha256", "is required with uploaded_by_url"
            )
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
            if await self._touch(spec.sha256):
                # Already stored: the uploaded copy is not needed.
                return await _shielded(self._commit(spec.artifact_id, spec.sha256, size, None))
            digest, _ = await self._hash(self.blobs.read_incoming(name))
            if digest != spec.sha256:
                raise InvalidArgument.for_field(
                    "header.declared_sha256",
                    f"the content uploaded to the URL has SHA-256 {digest}, not the declared "
                    f"{spec.sha256}; it was discarded",
                )
            handoff, incoming = incoming, None
            return await _shielded(self._commit(spec.artifact_id, digest, size, handoff))
        finally:
            if incoming is not None:
                with contextlib.suppress(Exception):
                    await _shielded(incoming.abort())

    async def _hash(self, chunks: AsyncGenerator[bytes, None]) -> tuple[str, int]:
        """SHA-256 and size of a stream of chunks, hashed in a thread."""
        hasher = hashlib.sha256()
        size = 0
        async with contextlib.aclosing(chunks) as stream:
            async for chunk in stream:
                size += len(chunk)
                await asyncio.to_thread(hasher.update, chunk)
        return hasher.hexdigest(), size

    # ---- download --------------------------------------------------------------

    async def download(self, artifact_id: uuid.UUID, offset: int) -> Download:
        """The artifact's content from `offset`, with its SHA-256 and size."""
        async with self.db.read() as conn:
            artifact = await self._artifact(conn, artifact_id)
            if artifact is None:
                raise _not_found(artifact_id)
            row = None
            if artifact.content_sha256:
                row = await self._blob(conn, artifact.content_sha256)
        if row is None or row.state != PRESENT:
            raise _no_content(artifact_id)
        if offset > row.size_bytes:
            raise OutOfRange(
                f"offset {offset} is past the end of the content ({row.size_bytes} bytes)",
                reason="OFFSET_OUT_OF_RANGE",
            )
        chunks = (
            self._chunks(artifact_id, row.sha256, offset)
            if offset < row.size_bytes
            else _no_chunks()
        )
        return Download(sha256=row.sha256, size_bytes=row.size_bytes, chunks=chunks)

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

    # ---- presigned URLs --------------------------------------------------------

    def _urls_unsupported(self) -> FailedPrecondition:
        return FailedPrecondition(
            f"the {self.blobs.kind} blob store cannot hand out URLs; move content with "
            "UploadArtifactContent and DownloadArtifactContent",
            reason="CONTENT_URLS_UNSUPPORTED",
        )

    async def content_url(
        self, artifact_id: uuid.UUID, *, method: str, sha256: str = "", expires_in: int
    ) -> ContentUrl:
        """A presigned GET of the artifact's content, or PUT for content hashing to `sha256`."""
        if not self.blobs.supports_urls:
            raise self._urls_unsupported()
        expire_time = self.clock() + timedelta(seconds=expires_in)
        async with self.db.read() as conn:
            artifact = await self._artifact(conn, artifact_id)
            if artifact is None:
                raise _not_found(artifact_id)
            row = None
            if artifact.content_sha256:
                row = await self._blob(conn, artifact.content_sha256)
        if method == "GET":
            if row is None or row.state != PRESENT:
                raise _no_content(artifact_id)
            url = await self.blobs.presign_get(row.sha256, expires_in)
        else:
            _check_same_content(artifact, sha256)
            url = await self.blobs.presign_put(f"{artifact_id}/{sha256}", expires_in)
        return ContentUrl(
            url=url.url, method=url.method, expire_time=expire_time, headers=dict(url.headers)
        )

    # ---- garbage collection ----------------------------------------------------

    async def collect_garbage(self, *, batch: int = 500) -> GcReport:
        """One GC pass: track which blobs are unreferenced, remove those past the grace
        period, and sweep what crashed uploads left in the blob store."""
        report = GcReport()
        now = self.clock()
        cutoff = now - self.gc_grace
        async with self.db.write() as conn:
            marked = await conn.execute(
                update(content_blobs)
                .where(
                    content_blobs.c.state == PRESENT,
                    content_blobs.c.unreferenced_since.is_(None),
                    ~_live_reference(),
                )
                .values(unreferenced_since=now)
            )
            cleared = await conn.execute(
                update(content_blobs)
                .where(content_blobs.c.unreferenced_since.is_not(None), _live_reference())
                .values(unreferenced_since=None)
            )
            report.marked, report.cleared = marked.rowcount, cleared.rowcount
        async with self.db.read() as conn:
            candidates = [
                r.sha256
                for r in await conn.execute(
                    select(content_blobs.c.sha256)
                    .where(
                        or_(
                            and_(
                                content_blobs.c.state == PRESENT,
                                content_blobs.c.unreferenced_since < cutoff,
                                content_blobs.c.reference_time < cutoff,
                            ),
                            and_(
                                content_blobs.c.state == PENDING,
                                content_blobs.c.reference_time < cutoff,
                            ),
                            content_blobs.c.state == DELETING,
                        )
                    )
                    .order_by(content_blobs.c.sha256)
                    .limit(batch)
                )
            ]
        for sha256 in candidates:
            try:
                size = await self._collect(sha256, cutoff)
            except Exception:
                log.exception("could not collect blob %s", sha256)
                report.failed += 1
                continue
            if size is not None:
                report.deleted += 1
                report.deleted_bytes += size
        report.swept = await self.blobs.sweep(cutoff)
        return report

    async def _collect(self, sha256: str, cutoff: datetime) -> int | None:
        """Remove one blob if it still qualifies; its size, or None when it was kept."""
        async with self.db.write() as conn:
            row = await self._blob(conn, sha256, lock=True)
            if row is None:
                return None
            if row.state == PRESENT:
                unreferenced = (
                    row.unreferenced_since is not None
                    and row.unreferenced_since < cutoff
                    and row.reference_time < cutoff
                )
                if not unreferenced:
                    return None
                referenced = (
                    await conn.execute(
                        select(
                            exists().where(
                                artifacts.c.content_sha256 == sha256,
                                artifacts.c.delete_time.is_(None),
                            )
                        )
                    )
                ).scalar_one()
                if referenced:
                    await conn.execute(
                        update(content_blobs)
                        .where(content_blobs.c.sha256 == sha256)
                        .values(unreferenced_since=None)
                    )
                    return None
            elif row.state == PENDING and not row.reference_time < cutoff:
                return None
            await conn.execute(
                update(content_blobs).where(content_blobs.c.sha256 == sha256).values(state=DELETING)
            )
        await self.blobs.delete(sha256)
        async with self.db.write() as conn:
            await conn.execute(
                delete(content_blobs).where(
                    content_blobs.c.sha256 == sha256, content_blobs.c.state == DELETING
                )
            )
        log.info("collected blob %s (%d bytes)", sha256, row.size_bytes)
        return int(row.size_bytes)

    # ---- verification ----------------------------------------------------------

    async def verify_blobs(self, sample: int) -> VerifyReport:
        """Re-hash the `sample` present blobs verified longest ago (never verified first)."""
        report = VerifyReport()
        async with self.db.read() as conn:
            rows = list(
                await conn.execute(
                    select(content_blobs.c.sha256, content_blobs.c.size_bytes)
                    .where(content_blobs.c.state == PRESENT)
                    .order_by(
                        content_blobs.c.verify_time.is_not(None),
                        content_blobs.c.verify_time,
                        content_blobs.c.sha256,
                    )
                    .limit(sample)
                )
            )
        for row in rows:
            try:
                digest, size = await self._hash(self.blobs.read(row.sha256))
                status = (
                    VERIFY_OK if (digest, size) == (row.sha256, row.size_bytes) else VERIFY_MISMATCH
                )
            except BlobNotFound:
                status = VERIFY_MISSING
            async with self.db.write() as conn:
                # A blob collected meanwhile is not a finding.
                result = await conn.execute(
                    update(content_blobs)
                    .where(content_blobs.c.sha256 == row.sha256, content_blobs.c.state == PRESENT)
                    .values(verify_time=self.clock(), verify_status=status)
                )
            if result.rowcount != 1:
                continue
            if status != VERIFY_OK:
                log.error("blob %s failed verification: %s", row.sha256, status)
            setattr(report, status, getattr(report, status) + 1)
        async with self.db.read() as conn:
            report.bad_total = int(
                (
                    await conn.execute(
                        select(func.count())
                        .select_from(content_blobs)
                        .where(
                            content_blobs.c.state == PRESENT,
                            content_blobs.c.verify_status.in_([VERIFY_MISMATCH, VERIFY_MISSING]),
                        )
                    )
                ).scalar_one()
            )
        return report
