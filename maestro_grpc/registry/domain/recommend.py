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

from maestro_grpc.registry.domain.projects import ProjectRegistry
from maestro_grpc.registry.model import (
    OUTCOME_WEIGHT,
    Artifact,
    ArtifactType,
    PeerProfile,
    Project,
    Reason,
    Recommendation,
    project_factor,
)
from maestro_grpc.registry.store.recommend import RecommendStore

WEIGHT_SIMILAR = 0.5
WEIGHT_TAGS = 0.3
WEIGHT_IMPACT = 0.2
MAX_SIMILAR_PROJECTS = 20
MAX_PEER_PROJECTS = 5000
MAX_CANDIDATES = 300


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


@dataclass
class _Peers:
    """What similar projects say: each artifact's weighted use by them, and who used it."""

    score: dict[uuid.UUID, float] = field(default_factory=lambda: defaultdict(float))
    users: dict[uuid.UUID, set[str]] = field(default_factory=lambda: defaultdict(set))
    top: float = 0.0  # the highest score: each artifact's similarity signal is its share


class Recommender:
    def __init__(self, store: RecommendStore, projects: ProjectRegistry) -> None:
        self.store = store
        self.projects = projects

    async def recommend(
        self, project_id: uuid.UUID, *, max_results: int, types: list[ArtifactType]
    ) -> list[Recommendation]:
        project = await self.projects.get_project(project_id)
        profiles = await self.store.profiles(MAX_PEER_PROJECTS)
        own = profiles.pop(project_id, PeerProfile())
        own_keywords = _own_keywords(project, own)
        peers = await self._similar(own, own_keywords, profiles)
        candidates = await self.store.candidates(
            ids=set(peers.score), tagged=own_keywords, types=types, limit=MAX_CANDIDATES
        )
        results: list[Recommendation] = []
        for artifact in candidates.values():
            if artifact.id in own.used or artifact.origin_project_id == project_id:
                continue
            found = _recommendation(artifact, own_keywords, peers)
            if found is not None:
                results.append(found)
        results.sort(key=lambda r: (-r.score, str(r.artifact.id)))
        return results[:max_results]

    async def _similar(
        self, own: PeerProfile, own_keywords: set[str], profiles: dict[uuid.UUID, PeerProfile]
    ) -> _Peers:
        """The most similar projects' usages, weighed by similarity, outcome and success."""
        similar = sorted(
            (
                (
                    0.5 * jaccard(own_keywords, _keywords_of(p)) + 0.5 * jaccard(own.used, p.used),
                    pid,
                )
                for pid, p in profiles.items()
            ),
            reverse=True,
        )
        similar = [(s, pid) for s, pid in similar[:MAX_SIMILAR_PROJECTS] if s > 0]
        names = await self.store.project_names([pid for _, pid in similar])
        peers = _Peers()
        for sim, pid in similar:
            peer = profiles[pid]
            for artifact_id, outcome in peer.usages:
                weight = OUTCOME_WEIGHT[outcome] * project_factor(peer.succeeded, peer.score)
                if weight > 0:
                    peers.score[artifact_id] += sim * weight
                    peers.users[artifact_id].add(names.get(pid, str(pid)))
        peers.top = max(peers.score.values(), default=0.0)
        return peers


def _keywords_of(profile: PeerProfile) -> set[str]:
    return keywords(profile.labels, profile.skills, profile.tags)


def _own_keywords(project: Project, own: PeerProfile) -> set[str]:
    team_skills = [s for m in project.team for s in m.skills]
    return keywords(project.labels, team_skills, own.tags) | project.required_skills


def _recommendation(
    artifact: Artifact, own_keywords: set[str], peers: _Peers
) -> Recommendation | None:
    """The artifact's score and its reasons, strongest first (None: nothing speaks for it)."""
    s_sim = peers.score.get(artifact.id, 0.0) / peers.top if peers.top else 0.0
    matching = sorted(set(artifact.tags) & own_keywords)
    s_tags = len(matching) / len(artifact.tags) if artifact.tags else 0.0
    s_impact = artifact.impact_score / 100.0
    users = peers.users.get(artifact.id, set())
    parts = [
        (
            Reason.SIMILAR,
            WEIGHT_SIMILAR * s_sim,
            "used by {} similar project(s): {}".format(len(users), ", ".join(sorted(users)[:5])),
        ),
        (
            Reason.TAGS,
            WEIGHT_TAGS * s_tags,
            "tags matching the project: " + ", ".join(matching[:10]),
        ),
        (Reason.IMPACT, WEIGHT_IMPACT * s_impact, f"impact score {artifact.impact_score:.1f}"),
    ]
    score = sum(p[1] for p in parts)
    if score <= 0:
        return None
    reasons = [
        (kind, detail, contribution / score)
        for kind, contribution, detail in sorted(parts, key=lambda p: -p[1])
        if contribution > 0
    ]
    return Recommendation(artifact=artifact, score=score, reasons=reasons)
