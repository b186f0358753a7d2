"""The SQL behind RecommendArtifacts: peer projects' profiles, and the candidate artifacts."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import and_, select

from maestro_grpc.registry.model import Artifact, ArtifactType, PeerProfile, UsageOutcome
from maestro_grpc.registry.store.rows import ARTIFACT_COLUMNS, artifact_from_row
from maestro_grpc.registry.store.tables import artifact_usages, artifacts, projects, team_members
from maestro_grpc.store.db import Database
from maestro_grpc.store.dialect import tags_any


class RecommendStore:
    """Reads for recommendations; each on a read connection of its own."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def profiles(self, limit: int) -> dict[uuid.UUID, PeerProfile]:
        """Labels, current skills, used artifacts and outcome of the `limit` most recently
        active projects."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(
                    projects.c.id,
                    projects.c.labels,
                    projects.c.success_succeeded,
                    projects.c.success_score,
                    projects.c.success_record_time,
                )
                .order_by(projects.c.update_time.desc())
                .limit(limit)
            )
            profiles: dict[uuid.UUID, PeerProfile] = {}
            for r in rows:
                recorded = r.success_record_time is not None
                profiles[r.id] = PeerProfile(
                    labels=dict(r.labels or {}),
                    succeeded=r.success_succeeded if recorded else None,
                    score=r.success_score if recorded else None,
                )
            for s in await conn.execute(
                select(team_members.c.project_id, team_members.c.skills).where(
                    team_members.c.leave_time.is_(None)
                )
            ):
                if (profile := profiles.get(s.project_id)) is not None:
                    profile.skills.update(s.skills or ())
            for u in await conn.execute(
                select(
                    artifact_usages.c.project_id,
                    artifact_usages.c.artifact_id,
                    artifact_usages.c.outcome,
                    artifacts.c.tags,
                ).join(artifacts, artifacts.c.id == artifact_usages.c.artifact_id)
            ):
                if (profile := profiles.get(u.project_id)) is not None:
                    profile.used.add(u.artifact_id)
                    profile.tags.update(u.tags or ())
                    profile.usages.append((u.artifact_id, UsageOutcome(u.outcome)))
        return profiles

    async def project_names(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(projects.c.id, projects.c.name).where(projects.c.id.in_(ids))
            )
            return {r.id: r.name for r in rows}

    async def candidates(
        self,
        *,
        ids: Collection[uuid.UUID],
        tagged: Collection[str],
        types: Sequence[ArtifactType],
        limit: int,
    ) -> dict[uuid.UUID, Artifact]:
        """Live artifacts (of `types`, if any): the `limit` most impactful, those of `ids`,
        and the `limit` most impactful carrying any of `tagged`."""
        live = [artifacts.c.delete_time.is_(None)]
        if types:
            live.append(artifacts.c.type.in_([t.value for t in types]))
        by_impact = (artifacts.c.impact_score.desc(), artifacts.c.id.desc())
        queries = [select(*ARTIFACT_COLUMNS).where(*live).order_by(*by_impact).limit(limit)]
        if ids:
            queries.append(
                select(*ARTIFACT_COLUMNS).where(and_(*live), artifacts.c.id.in_(list(ids)))
            )
        if tagged:
            queries.append(
                select(*ARTIFACT_COLUMNS)
                .where(*live, tags_any(artifacts, "tags", sorted(tagged), self.db.dialect))
                .order_by(*by_impact)
                .limit(limit)
            )
        found: dict[uuid.UUID, Artifact] = {}
        async with self.db.read() as conn:
            for query in queries:
                for row in await conn.execute(query):
                    found.setdefault(row.id, artifact_from_row(row))
        return found
