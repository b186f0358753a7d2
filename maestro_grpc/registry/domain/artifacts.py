"""The artifact library: versions, tags, search, usage and the impact score."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.errors import InvalidArgument
from maestro_grpc.paging import Cursor, Page
from maestro_grpc.registry.domain.changes import notes, relay
from maestro_grpc.registry.domain.project_cache import ProjectCache
from maestro_grpc.registry.impact import UsageSignal, impact_score, usage_impacts
from maestro_grpc.registry.model import (
    Artifact,
    ArtifactFacets,
    ArtifactFields,
    ArtifactQuery,
    ArtifactUsage,
    UsageFields,
    UsageImpact,
)
from maestro_grpc.registry.outward import RegistryChange, RegistryFeed, ReviewSummaries, no_reviews
from maestro_grpc.registry.store.artifacts import ArtifactStore
from maestro_grpc.registry.store.search import SearchStore
from maestro_grpc.registry.store.usages import Scorer, UsageStore

# A usage may be logged with a time slightly ahead of ours (clock skew).
MAX_CLOCK_SKEW = timedelta(minutes=5)


def scorer(now: datetime, half_life_days: float) -> Scorer:
    """The impact score of an artifact's usages as of `now`."""

    def score(signals: Sequence[UsageSignal]) -> float:
        return impact_score(signals, now, half_life_days)

    return score


class ArtifactLibrary:
    """Artifacts and their usage."""

    def __init__(
        self,
        artifacts: ArtifactStore,
        search: SearchStore,
        usages: UsageStore,
        *,
        half_life_days: float,
        clock: Clock = utcnow,
        cache: ProjectCache[Artifact] | None = None,
        changes: RegistryFeed | None = None,
        reviews: ReviewSummaries = no_reviews,
    ) -> None:
        # GetArtifact's per-replica cache, by the project cache's rules
        # (project_cache.py; the artifacts' own change feed, migration 0015).
        # Reviews are another context's writes; their summary is cached with the
        # artifact and dropped with it when one is written (`reviewed`).
        self.cache: ProjectCache[Artifact] = cache if cache is not None else ProjectCache(0)
        self.changes = changes
        self.reviews = reviews
        self.artifacts = artifacts
        self._search = search
        self.usages = usages
        self.half_life_days = half_life_days
        self.clock = clock

    async def create_artifact(
        self, fields: ArtifactFields, *, request_id: str = "", fingerprint: str = ""
    ) -> Artifact:
        def registered(artifact: Artifact) -> list[RegistryChange]:
            return [
                RegistryChange(
                    "artifact_version",
                    artifact.origin_project_id,
                    f"{artifact.name} {artifact.version} was registered",
                    key=f"artifact:{artifact.id}",
                    artifact=artifact,
                )
            ]

        artifact = await self.artifacts.create(
            fields,
            self.clock(),
            request_id=request_id,
            fingerprint=fingerprint,
            notes=notes(self.changes, registered),
        )
        await relay(self.changes)
        return artifact

    async def _reviewed(self, found: Sequence[Artifact]) -> list[Artifact]:
        summaries = await self.reviews([a.id for a in found]) if found else {}
        return [
            replace(a, review_average=summaries[a.id][0], review_count=summaries[a.id][1])
            if a.id in summaries
            else a
            for a in found
        ]

    async def get_artifact(self, artifact_id: uuid.UUID) -> Artifact:
        """The artifact with its review summary, from this replica's cache while that may
        answer, else from the store. A review drops the entry as any change of the row
        does: this replica's at once (`reviewed`), every replica's by the reviews'
        NOTIFY trigger (migration 0016)."""
        return await self.cache.get_or_load(artifact_id, self._load_reviewed)

    async def _load_reviewed(self, artifact_id: uuid.UUID) -> Artifact:
        return (await self._reviewed([await self.artifacts.get(artifact_id)]))[0]

    def reviewed(self, artifact_id: uuid.UUID) -> None:
        """Someone reviewed the artifact (the directory's write, wired in app.py): its
        cached answer, summary included, is stale."""
        self.cache.invalidate(artifact_id)

    async def update_artifact(self, artifact_id: uuid.UUID, changes: dict[str, Any]) -> Artifact:
        try:
            return await self.artifacts.update(artifact_id, changes, self.clock())
        finally:
            self.cache.invalidate(artifact_id)

    async def delete_artifact(self, artifact_id: uuid.UUID) -> Artifact:
        """Soft-delete: gone from Get and Search, its usages kept, its name and version free."""
        try:
            return await self.artifacts.delete(artifact_id, self.clock())
        finally:
            self.cache.invalidate(artifact_id)

    async def search(
        self, query: ArtifactQuery, *, page_size: int, after: Cursor | None
    ) -> Page[Artifact]:
        # The page's review summaries are read while its total is counted.
        return await self._search.search(
            query, page_size=page_size, after=after, then=self._reviewed
        )

    async def facets(self, query: ArtifactQuery, *, max_tags: int) -> ArtifactFacets:
        return await self._search.facets(query, max_tags=max_tags)

    async def log_usage(
        self, fields: UsageFields, *, request_id: str = "", fingerprint: str = ""
    ) -> tuple[ArtifactUsage, Artifact]:
        """Record a usage (at its time, or now) and rescore the artifact at once."""
        now = self.clock()
        use_time = fields.use_time or now
        if use_time > now + MAX_CLOCK_SKEW:
            raise InvalidArgument.for_field("artifact_usage.use_time", "must not be in the future")

        def used(made: tuple[ArtifactUsage, Artifact]) -> list[RegistryChange]:
            usage, artifact = made
            return [
                RegistryChange(
                    "usage",
                    usage.project_id,
                    f"{artifact.name} {artifact.version} was used ({usage.outcome.value})",
                    key=f"usage:{usage.id}",
                    artifact=artifact,
                )
            ]

        try:
            usage, artifact = await self.usages.log(
                fields,
                use_time=use_time,
                now=now,
                score=scorer(now, self.half_life_days),
                request_id=request_id,
                fingerprint=fingerprint,
                notes=notes(self.changes, used),
            )
        finally:  # its usage count and impact score changed
            self.cache.invalidate(fields.artifact_id)
        await relay(self.changes)
        return usage, artifact

    async def list_usages(
        self,
        *,
        artifact_id: uuid.UUID | None,
        project_id: uuid.UUID | None,
        page_size: int,
        after: Cursor | None,
        within: frozenset[uuid.UUID] | None = None,
    ) -> Page[ArtifactUsage]:
        """A page of usages, each with its part in its artifact's impact score as of
        now; `within`: only these projects' (a caller limited to some)."""
        page = await self.usages.list(
            artifact_id=artifact_id,
            project_id=project_id,
            page_size=page_size,
            after=after,
            within=within,
        )
        return replace(page, items=await self._with_impacts(page.items))

    async def _with_impacts(self, usages: Sequence[ArtifactUsage]) -> list[ArtifactUsage]:
        now = self.clock()
        by_artifact = await self.usages.signals(sorted({u.artifact_id for u in usages}, key=str))
        impacts: dict[uuid.UUID, UsageImpact] = {}
        for signals in by_artifact.values():
            found = usage_impacts([s for _, s in signals], now, self.half_life_days)
            impacts.update(zip((usage_id for usage_id, _ in signals), found, strict=True))
        return [replace(u, impact=impacts.get(u.id)) for u in usages]
