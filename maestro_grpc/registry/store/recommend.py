"""The SQL behind RecommendArtifacts: the most similar peer projects (peer_similarity.py)
and their profiles, co-usage, usage tallies and the candidate artifacts. Similarity,
co-usage and tallies are aggregated by the database, so what crosses the wire is one row
per peer, artifact pair or artifact, never per usage or per project of the organisation."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.registry.model import (
    Artifact,
    ArtifactType,
    PeerProfile,
    UsageOutcome,
    UsageTally,
)
from maestro_grpc.registry.store import peer_similarity
from maestro_grpc.registry.store.rows import ARTIFACT_COLUMNS, artifact_from_row
from maestro_grpc.registry.store.tables import artifact_usages, artifacts, projects, team_members
from maestro_grpc.store.db import Database
from maestro_grpc.store.dialect import tags_any, uuid_in

HARMFUL = UsageOutcome.HARMFUL.value
MAX_PAIRS = 20_000


class RecommendStore:
    """Reads for recommendations; each on a read connection of its own."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def profiles(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, PeerProfile]:
        """Labels, current skills, used artifacts and outcome of the projects `ids` (the
        project itself and its few most similar peers: never the whole organisation)."""
        wanted = sorted(set(ids), key=str)
        if not wanted:
            return {}
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(
                    projects.c.id,
                    projects.c.labels,
                    projects.c.success_succeeded,
                    projects.c.success_score,
                    projects.c.success_record_time,
                ).where(projects.c.id.in_(wanted))
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
                    team_members.c.leave_time.is_(None), team_members.c.project_id.in_(wanted)
                )
            ):
                if (profile := profiles.get(s.project_id)) is not None:
                    profile.skills.update(s.skills or ())
            await self._add_usages(conn, profiles)
        return profiles

    async def similar(
        self,
        project_id: uuid.UUID,
        words: Collection[str],
        used: int,
        *,
        window: int,
        limit: int,
    ) -> list[tuple[float, uuid.UUID]]:
        """The `limit` projects most similar to `project_id` among the `window` most
        recently updated others, most similar first, each with its similarity (> 0):
        0.5 x Jaccard of keywords (`words` the project's own; a peer's: its label
        values split at commas, its current team's skills, the tags of what it used,
        lower-cased) + 0.5 x Jaccard of used artifacts (`used`: how many the project
        used). Scored by the database (peer_similarity.py), one row per peer returned."""
        return await peer_similarity.similar(
            self.db, project_id, sorted(set(words)), used, window=window, limit=limit
        )

    async def _add_usages(
        self, conn: AsyncConnection, profiles: dict[uuid.UUID, PeerProfile]
    ) -> None:
        """Each profile's usages, grouped by (project, artifact, outcome) in SQL, and the
        tags of what it used, each artifact's decoded once rather than once per usage."""
        used = (
            await conn.execute(
                select(
                    artifact_usages.c.project_id,
                    artifact_usages.c.artifact_id,
                    artifact_usages.c.outcome,
                    func.count(),
                )
                .where(artifact_usages.c.project_id.in_(list(profiles)))
                .group_by(
                    artifact_usages.c.project_id,
                    artifact_usages.c.artifact_id,
                    artifact_usages.c.outcome,
                )
            )
        ).all()
        ids = sorted({u.artifact_id for u in used}, key=str)
        tags: dict[uuid.UUID, list[str]] = {}
        if ids:
            for a in await conn.execute(
                select(artifacts.c.id, artifacts.c.tags).where(
                    uuid_in(artifacts.c.id, ids, self.db.dialect)
                )
            ):
                tags[a.id] = list(a.tags or ())
        for u in used:
            if (profile := profiles.get(u.project_id)) is not None and u.artifact_id in tags:
                profile.used.add(u.artifact_id)
                profile.tags.update(tags[u.artifact_id])
                outcome = UsageOutcome(u.outcome)
                profile.usages.extend([(u.artifact_id, outcome)] * int(u[3]))

    async def co_usage(
        self, project_id: uuid.UUID, own: Sequence[uuid.UUID]
    ) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
        """(other artifact, one of `own`) -> how many other projects used both, neither use
        harmful: the pairs behind item-to-item co-usage, counted by the database."""
        if not own:
            return {}
        a, b = artifact_usages.alias("a"), artifact_usages.alias("b")
        together = func.count(distinct(a.c.project_id))
        query = (
            select(b.c.artifact_id.label("other"), a.c.artifact_id.label("mine"), together)
            .select_from(
                a.join(
                    b, and_(b.c.project_id == a.c.project_id, b.c.artifact_id != a.c.artifact_id)
                )
            )
            .where(
                uuid_in(a.c.artifact_id, own, self.db.dialect),
                a.c.project_id != project_id,
                a.c.outcome != HARMFUL,
                b.c.outcome != HARMFUL,
            )
            .group_by(b.c.artifact_id, a.c.artifact_id)
            .order_by(together.desc(), b.c.artifact_id, a.c.artifact_id)
            .limit(MAX_PAIRS)
        )
        async with self.db.read() as conn:
            return {(r.other, r.mine): int(r[2]) for r in await conn.execute(query)}

    async def tallies(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, UsageTally]:
        """Per artifact of `ids`: how many projects used it, and how many of them found it
        harmful (counted by the database)."""
        if not ids:
            return {}
        u = artifact_usages.c
        harmed = func.count(distinct(case((u.outcome == HARMFUL, u.project_id))))
        query = (
            select(u.artifact_id, func.count(distinct(u.project_id)), harmed)
            .where(uuid_in(u.artifact_id, ids, self.db.dialect))
            .group_by(u.artifact_id)
        )
        async with self.db.read() as conn:
            return {
                r[0]: UsageTally(projects=int(r[1]), harmed=int(r[2]))
                for r in await conn.execute(query)
            }

    async def artifact_names(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(artifacts.c.id, artifacts.c.name).where(
                    uuid_in(artifacts.c.id, ids, self.db.dialect)
                )
            )
            return {r.id: r.name for r in rows}

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
