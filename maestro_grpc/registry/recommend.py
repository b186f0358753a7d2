"""RecommendArtifacts: which artifacts a project should reuse, and why.

Three signals, each 0..1, weighed into one score:
- used by similar projects (0.5): projects whose keywords (labels, required
  skills, team skills, tags of what they used) and used artifacts overlap
  this project's; each of their usages counts by similarity, outcome and the
  user's success;
- matching tags (0.3): the share of an artifact's tags among this project's
  keywords;
- high impact (0.2): the impact score / 100.
Artifacts the project already used or produced are left out. The candidate
set is bounded (similar projects' artifacts, tag matches, the most
impactful), so the cost does not grow with the whole library.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.registry.artifacts import ARTIFACT_COLUMNS, artifact_from_row
from maestro_grpc.registry.impact import OUTCOME_WEIGHT, project_factor
from maestro_grpc.registry.model import Artifact, ArtifactType, UsageOutcome
from maestro_grpc.registry.projects import ProjectRegistry
from maestro_grpc.registry.store.tables import artifact_usages, artifacts, projects, team_members
from maestro_grpc.store.db import Database
from maestro_grpc.store.dialect import tags_any

WEIGHT_SIMILAR = 0.5
WEIGHT_TAGS = 0.3
WEIGHT_IMPACT = 0.2
MAX_SIMILAR_PROJECTS = 20
MAX_PEER_PROJECTS = 5000
MAX_CANDIDATES = 300


class Reason:
    SIMILAR = "used_by_similar_projects"
    TAGS = "matching_tags"
    IMPACT = "high_impact"


@dataclass
class Recommendation:
    artifact: Artifact
    score: float
    # (kind, detail, share of the score), strongest first.
    reasons: list[tuple[str, str, float]] = field(default_factory=list)


def jaccard(a: set[str] | set[uuid.UUID], b: set[str] | set[uuid.UUID]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def keywords(labels: dict[str, str], skills: Iterable[str], tags: Iterable[str]) -> set[str]:
    """A project's keywords: label values (comma-split), skills and tags, lower-cased."""
    words: set[str] = set()
    for value in labels.values():
        words.update(p.strip().lower() for p in value.split(",") if p.strip())
    words.update(s.lower() for s in skills)
    words.update(t.lower() for t in tags)
    return words


class Recommender:
    def __init__(self, db: Database, projects_registry: ProjectRegistry) -> None:
        self.db = db
        self.projects = projects_registry

    async def recommend(
        self, project_id: uuid.UUID, *, max_results: int, types: list[ArtifactType]
    ) -> list[Recommendation]:
        project = await self.projects.get_project(project_id)
        async with self.db.read() as conn:
            peers = await _project_profiles(conn)
            own = peers.pop(project_id, _Profile())
            own_keywords = (
                keywords(project.labels, [s for m in project.team for s in m.skills], own.tags)
                | project.required_skills
            )
            similar = sorted(
                (
                    (0.5 * jaccard(own_keywords, p.keywords) + 0.5 * jaccard(own.used, p.used), pid)
                    for pid, p in peers.items()
                ),
                reverse=True,
            )
            similar = [(s, pid) for s, pid in similar[:MAX_SIMILAR_PROJECTS] if s > 0]
            names = await _project_names(conn, [pid for _, pid in similar])

            similar_score: dict[uuid.UUID, float] = defaultdict(float)
            similar_users: dict[uuid.UUID, set[str]] = defaultdict(set)
            for sim, pid in similar:
                peer = peers[pid]
                for artifact_id, outcome in peer.usages:
                    weight = OUTCOME_WEIGHT[outcome] * project_factor(peer.succeeded, peer.score)
                    if weight > 0:
                        similar_score[artifact_id] += sim * weight
                        similar_users[artifact_id].add(names.get(pid, str(pid)))

            candidates = await _candidates(
                conn, self.db.dialect, set(similar_score), own_keywords, types
            )

        excluded = own.used
        top_similar = max(similar_score.values(), default=0.0)
        results: list[Recommendation] = []
        for artifact in candidates.values():
            if artifact.id in excluded or artifact.origin_project_id == project_id:
                continue
            s_sim = similar_score.get(artifact.id, 0.0) / top_similar if top_similar else 0.0
            matching = sorted(set(artifact.tags) & own_keywords)
            s_tags = len(matching) / len(artifact.tags) if artifact.tags else 0.0
            s_impact = artifact.impact_score / 100.0
            parts = [
                (
                    Reason.SIMILAR,
                    WEIGHT_SIMILAR * s_sim,
                    "used by {} similar project(s): {}".format(
                        len(similar_users[artifact.id]),
                        ", ".join(sorted(similar_users[artifact.id])[:5]),
                    ),
                ),
                (
                    Reason.TAGS,
                    WEIGHT_TAGS * s_tags,
                    "tags matching the project: " + ", ".join(matching[:10]),
                ),
                (
                    Reason.IMPACT,
                    WEIGHT_IMPACT * s_impact,
                    f"impact score {artifact.impact_score:.1f}",
                ),
            ]
            score = sum(p[1] for p in parts)
            if score <= 0:
                continue
            reasons = [
                (kind, detail, contribution / score)
                for kind, contribution, detail in sorted(parts, key=lambda p: -p[1])
                if contribution > 0
            ]
            results.append(Recommendation(artifact=artifact, score=score, reasons=reasons))
        results.sort(key=lambda r: (-r.score, str(r.artifact.id)))
        return results[:max_results]


@dataclass
class _Profile:
    keywords: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    used: set[uuid.UUID] = field(default_factory=set)
    usages: list[tuple[uuid.UUID, UsageOutcome]] = field(default_factory=list)
    succeeded: bool | None = None
    score: float | None = None


async def _project_profiles(conn: AsyncConnection) -> dict[uuid.UUID, _Profile]:
    """Keywords, used artifacts and outcome of the most recently active projects."""
    rows = await conn.execute(
        select(
            projects.c.id,
            projects.c.labels,
            projects.c.success_succeeded,
            projects.c.success_score,
            projects.c.success_record_time,
        )
        .order_by(projects.c.update_time.desc())
        .limit(MAX_PEER_PROJECTS)
    )
    profiles: dict[uuid.UUID, _Profile] = {}
    labels: dict[uuid.UUID, dict[str, str]] = {}
    for r in rows:
        recorded = r.success_record_time is not None
        profiles[r.id] = _Profile(
            succeeded=r.success_succeeded if recorded else None,
            score=r.success_score if recorded else None,
        )
        labels[r.id] = dict(r.labels or {})
    skills: dict[uuid.UUID, set[str]] = defaultdict(set)
    for s in await conn.execute(
        select(team_members.c.project_id, team_members.c.skills).where(
            team_members.c.leave_time.is_(None)
        )
    ):
        skills[s.project_id].update(s.skills or ())
    for u in await conn.execute(
        select(
            artifact_usages.c.project_id,
            artifact_usages.c.artifact_id,
            artifact_usages.c.outcome,
            artifacts.c.tags,
        ).join(artifacts, artifacts.c.id == artifact_usages.c.artifact_id)
    ):
        profile = profiles.get(u.project_id)
        if profile is None:
            continue
        profile.used.add(u.artifact_id)
        profile.tags.update(u.tags or ())
        profile.usages.append((u.artifact_id, UsageOutcome(u.outcome)))
    for pid, profile in profiles.items():
        profile.keywords = keywords(labels[pid], skills.get(pid, ()), profile.tags)
    return profiles


async def _project_names(conn: AsyncConnection, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await conn.execute(select(projects.c.id, projects.c.name).where(projects.c.id.in_(ids)))
    return {r.id: r.name for r in rows}


async def _candidates(
    conn: AsyncConnection,
    dialect: str,
    from_similar: set[uuid.UUID],
    own_keywords: set[str],
    types: list[ArtifactType],
) -> dict[uuid.UUID, Artifact]:
    live = [artifacts.c.delete_time.is_(None)]
    if types:
        live.append(artifacts.c.type.in_([t.value for t in types]))
    queries = [
        select(*ARTIFACT_COLUMNS)
        .where(*live)
        .order_by(artifacts.c.impact_score.desc(), artifacts.c.id.desc())
        .limit(MAX_CANDIDATES)
    ]
    if from_similar:
        queries.append(
            select(*ARTIFACT_COLUMNS).where(and_(*live), artifacts.c.id.in_(list(from_similar)))
        )
    if own_keywords:
        queries.append(
            select(*ARTIFACT_COLUMNS)
            .where(*live, tags_any(artifacts, "tags", sorted(own_keywords), dialect))
            .order_by(artifacts.c.impact_score.desc(), artifacts.c.id.desc())
            .limit(MAX_CANDIDATES)
        )
    found: dict[uuid.UUID, Artifact] = {}
    for query in queries:
        for row in await conn.execute(query):
            found.setdefault(row.id, artifact_from_row(row))
    return found
