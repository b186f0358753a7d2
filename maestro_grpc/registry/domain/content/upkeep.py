"""Keeping the stored content honest: garbage collection and verification (the indexer's jobs)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from maestro_grpc.blobs import BlobNotFound, BlobStore
from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.registry.domain.content.rules import hash_stream
from maestro_grpc.registry.model import GcReport, VerifyReport, VerifyStatus
from maestro_grpc.registry.store.content_blobs import ContentBlobs

log = logging.getLogger("maestro.content")


class ContentUpkeep:
    """Blob GC (after `gc_grace` unreferenced and untouched) and re-hashing of stored blobs."""

    def __init__(
        self,
        rows: ContentBlobs,
        blobs: BlobStore,
        *,
        gc_grace: timedelta = timedelta(days=1),
        clock: Clock = utcnow,
    ) -> None:
        self.rows = rows
        self.blobs = blobs
        self.gc_grace = gc_grace
        self.clock = clock

    async def collect_garbage(self, *, batch: int = 500) -> GcReport:
        """One GC pass: track which blobs are unreferenced, remove those past the grace
        period, and sweep what crashed uploads left in the blob store."""
        report = GcReport()
        now = self.clock()
        cutoff = now - self.gc_grace
        report.marked, report.cleared = await self.rows.track_references(now)
        for sha256 in await self.rows.collectable(cutoff, batch):
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
        """Remove one blob if it still qualifies: its row says `deleting` first, so no row
        claims bytes that are gone. Its size, or None when it was kept."""
        blob = await self.rows.begin_removal(sha256, cutoff)
        if blob is None:
            return None
        await self.blobs.delete(sha256)
        await self.rows.end_removal(sha256)
        log.info("collected blob %s (%d bytes)", sha256, blob.size_bytes)
        return int(blob.size_bytes)

    async def verify_blobs(self, sample: int) -> VerifyReport:
        """Re-hash the `sample` present blobs verified longest ago (never verified first)."""
        report = VerifyReport()
        for blob in await self.rows.least_recently_verified(sample):
            try:
                digest, size = await hash_stream(self.blobs.read(blob.sha256))
                ok = (digest, size) == (blob.sha256, blob.size_bytes)
                status = VerifyStatus.OK if ok else VerifyStatus.MISMATCH
            except BlobNotFound:
                status = VerifyStatus.MISSING
            # A blob collected meanwhile is not a finding.
            if not await self.rows.record_verification(blob.sha256, status, self.clock()):
                continue
            if status is not VerifyStatus.OK:
                log.error("blob %s failed verification: %s", blob.sha256, status.value)
            report.count(status)
        report.bad_total = await self.rows.bad_count()
        return report
