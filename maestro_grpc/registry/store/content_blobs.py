"""The SQL of artifact content: the `content_blobs` rows, and artifacts pointing at them.

Each method is one transaction of the protocol that keeps uploads and the
garbage collector from stepping on each other (domain/content/__init__.py
tells it whole); the domain decides what to do between them. Rows are locked
(FOR UPDATE on PostgreSQL; SQLite's write transactions are serial anyway)
wherever a decision depends on them.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc import audit
from maestro_grpc.registry.model import Artifact, BlobState, ContentBlob, VerifyStatus
from maestro_grpc.registry.store.rows import load_artifact
from maestro_grpc.registry.store.tables import artifacts, content_blobs
from maestro_grpc.store.db import Database
from maestro_grpc.store.dialect import insert

PRESENT = BlobState.PRESENT.value
PENDING = BlobState.PENDING.value
DELETING = BlobState.DELETING.value
BAD = [VerifyStatus.MISMATCH.value, VerifyStatus.MISSING.value]


class Outcome(enum.Enum):
    """How a claim on a blob (or its settling) went."""

    GONE = "gone"  # the artifact is not there (any more)
    CONFLICT = "conflict"  # the artifact has other content
    REUSED = "reused"  # the blob is present: the artifact now points at it
    DELETING = "deleting"  # the GC is removing the blob right now
    MISSING = "missing"  # no present blob, and the caller has no bytes to stage
    STAGED = "staged"  # the blob's row is pending: the caller may move its bytes in
    COLLECTED = "collected"  # the staged row was collected meanwhile
    LINKED = "linked"  # the blob is present and the artifact points at it


@dataclass(frozen=True)
class Claim:
    outcome: Outcome
    artifact: Artifact | None = None


@dataclass(frozen=True)
class BlobRef:
    """Where an artifact's content is: its blob's address, size and URI."""

    sha256: str
    size_bytes: int
    uri: str


def _blob(row: Any) -> ContentBlob:
    return ContentBlob(sha256=row.sha256, size_bytes=row.size_bytes, state=BlobState(row.state))


def _live_reference() -> Any:
    """Whether a live artifact refers to the blob of the current content_blobs row."""
    return exists().where(
        artifacts.c.content_sha256 == content_blobs.c.sha256, artifacts.c.delete_time.is_(None)
    )


def _collectable(cutoff: datetime) -> Any:
    """Rows the GC may remove: present and unreferenced and untouched since `cutoff`,
    pending (a crashed upload) since `cutoff`, or already being removed."""
    return or_(
        and_(
            content_blobs.c.state == PRESENT,
            content_blobs.c.unreferenced_since < cutoff,
            content_blobs.c.reference_time < cutoff,
        ),
        and_(content_blobs.c.state == PENDING, content_blobs.c.reference_time < cutoff),
        content_blobs.c.state == DELETING,
    )


async def _locked_blob(conn: AsyncConnection, sha256: str) -> Any:
    query = select(content_blobs).where(content_blobs.c.sha256 == sha256).with_for_update()
    return (await conn.execute(query)).first()


async def _link(
    conn: AsyncConnection, artifact: Artifact, blob: BlobRef, now: datetime
) -> Artifact:
    """Point the artifact at the blob (in the caller's transaction)."""
    audit.touch("artifacts", artifact.id, artifact.origin_project_id)
    if artifact.content_stored and (
        artifact.content_sha256,
        artifact.size_bytes,
        artifact.storage_uri,
    ) == (blob.sha256, blob.size_bytes, blob.uri):
        return artifact
    await conn.execute(
        update(artifacts)
        .where(artifacts.c.id == artifact.id)
        .values(
            content_sha256=blob.sha256,
            size_bytes=blob.size_bytes,
            storage_uri=blob.uri,
            content_stored=True,
            update_time=now,
        )
    )
    linked = await load_artifact(conn, artifact.id)
    assert linked is not None
    return linked


class ContentBlobs:
    """Blob rows and artifacts' links to them; each method one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- uploads and downloads -------------------------------------------------

    async def live_artifact(self, artifact_id: uuid.UUID) -> Artifact | None:
        async with self.db.read() as conn:
            return await load_artifact(conn, artifact_id)

    async def content_of(
        self, artifact_id: uuid.UUID
    ) -> tuple[Artifact | None, ContentBlob | None]:
        """The live artifact and the row of the blob it names (either may be None)."""
        async with self.db.read() as conn:
            artifact = await load_artifact(conn, artifact_id)
            if artifact is None or not artifact.content_sha256:
                return artifact, None
            row = (
                await conn.execute(
                    select(content_blobs).where(content_blobs.c.sha256 == artifact.content_sha256)
                )
            ).first()
        return artifact, None if row is None else _blob(row)

    async def touch(self, sha256: str, now: datetime) -> bool:
        """Renew a present blob's reference_time; whether there is one."""
        async with self.db.write() as conn:
            result = await conn.execute(
                update(content_blobs)
                .where(content_blobs.c.sha256 == sha256, content_blobs.c.state == PRESENT)
                .values(reference_time=now)
            )
            return bool(result.rowcount == 1)

    async def claim(
        self,
        artifact_id: uuid.UUID,
        blob: BlobRef,
        now: datetime,
        *,
        accepts: Callable[[Artifact], bool],
        stage: bool,
    ) -> Claim:
        """With the artifact and the blob's row locked: reuse a present blob (REUSED), or
        stage a pending row for bytes the caller holds (STAGED, with `stage`)."""
        async with self.db.write() as conn:
            artifact = await load_artifact(conn, artifact_id, lock=True)
            if artifact is None:
                return Claim(Outcome.GONE)
            if not accepts(artifact):
                return Claim(Outcome.CONFLICT, artifact)
            row = await _locked_blob(conn, blob.sha256)
            if row is not None and row.state == PRESENT:
                await conn.execute(
                    update(content_blobs)
                    .where(content_blobs.c.sha256 == blob.sha256)
                    .values(reference_time=now, unreferenced_since=None)
                )
                present = BlobRef(blob.sha256, row.size_bytes, blob.uri)
                return Claim(Outcome.REUSED, await _link(conn, artifact, present, now))
            if row is not None and row.state == DELETING:
                return Claim(Outcome.DELETING, artifact)
            if not stage:
                return Claim(Outcome.MISSING, artifact)
            statement = insert(conn, content_blobs).values(
                sha256=blob.sha256,
                size_bytes=blob.size_bytes,
                state=PENDING,
                create_time=now,
                reference_time=now,
            )
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[content_blobs.c.sha256], set_={"reference_time": now}
                )
            )
            return Claim(Outcome.STAGED, artifact)

    async def settle(
        self,
        artifact_id: uuid.UUID,
        blob: BlobRef,
        now: datetime,
        *,
        accepts: Callable[[Artifact], bool],
    ) -> Claim:
        """After the staged bytes reached their address: mark the blob present and point
        the artifact at it (LINKED). The blob stays present even when the artifact went
        (GONE) or took other content (CONFLICT) meanwhile."""
        async with self.db.write() as conn:
            artifact = await load_artifact(conn, artifact_id, lock=True)
            row = await _locked_blob(conn, blob.sha256)
            if row is None or row.state == DELETING:
                return Claim(Outcome.COLLECTED, artifact)
            await conn.execute(
                update(content_blobs)
                .where(content_blobs.c.sha256 == blob.sha256)
                .values(
                    state=PRESENT,
                    size_bytes=blob.size_bytes,
                    reference_time=now,
                    unreferenced_since=None,
                )
            )
            if artifact is None:
                return Claim(Outcome.GONE)
            if not accepts(artifact):
                return Claim(Outcome.CONFLICT, artifact)
            return Claim(Outcome.LINKED, await _link(conn, artifact, blob, now))

    # ---- garbage collection ----------------------------------------------------

    async def track_references(self, now: datetime) -> tuple[int, int]:
        """Mark present blobs no live artifact refers to as unreferenced since `now`, and
        clear the mark of those referred to again; (marked, cleared)."""
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
            return marked.rowcount, cleared.rowcount

    async def collectable(self, cutoff: datetime, limit: int) -> list[str]:
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(content_blobs.c.sha256)
                .where(_collectable(cutoff))
                .order_by(content_blobs.c.sha256)
                .limit(limit)
            )
            return [r.sha256 for r in rows]

    async def begin_removal(self, sha256: str, cutoff: datetime) -> ContentBlob | None:
        """Mark the blob `deleting` if, re-checked under its lock, it may still go (a live
        artifact may have come to refer to it); the blob, or None when it stays."""
        async with self.db.write() as conn:
            row = await _locked_blob(conn, sha256)
            if row is None:
                return None
            if row.state == PRESENT:
                qualifies = (
                    row.unreferenced_since is not None
                    and row.unreferenced_since < cutoff
                    and row.reference_time < cutoff
                )
                if not qualifies:
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
            return _blob(row)

    async def end_removal(self, sha256: str) -> None:
        """Delete the row of a blob whose bytes are gone."""
        async with self.db.write() as conn:
            await conn.execute(
                delete(content_blobs).where(
                    content_blobs.c.sha256 == sha256, content_blobs.c.state == DELETING
                )
            )

    # ---- verification ----------------------------------------------------------

    async def least_recently_verified(self, limit: int) -> list[ContentBlob]:
        """Present blobs, never verified first, then verified longest ago."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(content_blobs)
                .where(content_blobs.c.state == PRESENT)
                .order_by(
                    content_blobs.c.verify_time.is_not(None),
                    content_blobs.c.verify_time,
                    content_blobs.c.sha256,
                )
                .limit(limit)
            )
            return [_blob(r) for r in rows]

    async def record_verification(self, sha256: str, status: VerifyStatus, now: datetime) -> bool:
        """Keep a verification's result; False if the blob was collected meanwhile."""
        async with self.db.write() as conn:
            result = await conn.execute(
                update(content_blobs)
                .where(content_blobs.c.sha256 == sha256, content_blobs.c.state == PRESENT)
                .values(verify_time=now, verify_status=status.value)
            )
            return bool(result.rowcount == 1)

    async def bad_count(self) -> int:
        """Present blobs whose last verification failed."""
        async with self.db.read() as conn:
            result = await conn.execute(
                select(func.count())
                .select_from(content_blobs)
                .where(content_blobs.c.state == PRESENT, content_blobs.c.verify_status.in_(BAD))
            )
            return int(result.scalar_one())
