"""RecommendArtifacts: which artifacts a project should reuse, and why.

Five signals, each 0..1, weighed into one score (`SIGNALS`, the weights sum to 1;
the first four's below are scaled by 0.95 to leave the reviews 0.05):
- co-used (0.55): item-to-item co-usage. For each artifact the project uses,
  the artifacts other projects used with it: together / (sqrt(users of
  the project's artifact) x users of the other ^ 0.7), a cosine that
  favours specific artifacts a little more (pairs counted by the database; harmful uses count on
  neither side), summed over what the project uses; as a share of the
  strongest candidate's;
- used by similar projects (0.2): projects whose keywords (labels, required
  skills, team skills, tags of what they used) and used artifacts overlap
  this project's (0.5 x Jaccard of each; the database scores every peer and
  answers the best MAX_SIMILAR_PROJECTS: store/peer_similarity.py); each of
  their usages counts by similarity, outcome and the user's success; as a
  share of the strongest candidate's;
- matching tags (0.2): the share of an artifact's tags among this
  project's keywords;
- high impact (0.05): the impact score / 100 (usage weighed by outcome,
  success and age: the organisation-wide popularity of what helped);
- well reviewed (0.05): the version's reviews in the people directory,
  (mean rating - 1) / 4 shrunk by count / (count + REVIEW_PRIOR): one 5-star
  review gives 0.33, five give 0.71, a 1-star mean gives 0 (read through the
  directory's read API, the `ReviewSummaries` app.py hands the recommender).
Then harm: the score is multiplied by (1 - h)^2, h the share of the
projects using the artifact that logged a HARMFUL use, and an artifact that
harmed at least half of its users (`MAX_HARM_SHARE`) is not recommended.
Artifacts the project already used or produced are left out. The candidate
set is bounded (co-used artifacts, similar projects' artifacts, tag matches,
the most impactful), so the cost does not grow with the whole library.

A new signal (follows) is one more entry: its evidence read in `_evidence`
(or beside the candidates), its value and detail in `_parts`, its weight in
`SIGNALS`. The reviews' weight came out of the others in proportion, so a
library without reviews ranks exactly as before.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from maestro_grpc.registry.domain.projects import ProjectRegistry
from maestro_grpc.registry.impact import OUTCOME_WEIGHT, project_factor
from maestro_grpc.registry.model import (
    Artifact,
    ArtifactType,
    PeerProfile,
    Project,
    Reason,
    Recommendation,
    UsageOutcome,
    UsageTally,
)
from maestro_grpc.registry.outward import ReviewSummaries, no_reviews
from maestro_grpc.registry.store.recommend import RecommendStore

# Each signal's weight in the score (they sum to 1); see the module's docstring.
REVIEW_WEIGHT = 0.05
# The first four as bench/recommend.py chose them, scaled to leave the reviews their share:
# without reviews the ranking is exactly what it was.
_USAGE_SIGNALS = {Reason.CO_USED: 0.55, Reason.SIMILAR: 0.2, Reason.TAGS: 0.2, Reason.IMPACT: 0.05}
SIGNALS = {k: w * (1.0 - REVIEW_WEIGHT) for k, w in _USAGE_SIGNALS.items()} | {
    Reason.REVIEWED: REVIEW_WEIGHT
}
# Reviews a version needs before its mean counts half: value x count / (count + this).
REVIEW_PRIOR = 2.0
MAX_HARM_SHARE = 0.5
# Co-usage divides by sqrt(users of what the project uses) x (users of the other)^this:
# 0.5 would be the cosine, 1 the lift; 0.7 did best on bench/recommend.py, which
# also chose the weights above.
CO_USERS_EXPONENT = 0.7
MAX_SIMILAR_PROJECTS = 20
MAX_PEER_PROJECTS = 5000
MAX_CANDIDATES = 300


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


@dataclass
class _CoUse:
    """Item-to-item co-usage: each artifact's summed cosine with what the project uses."""

    score: dict[uuid.UUID, float] = field(default_factory=lambda: defaultdict(float))
    # The project's artifacts it was used with, strongest first (for the reason).
    with_: dict[uuid.UUID, list[tuple[float, uuid.UUID]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    top: float = 0.0


@dataclass
class _Evidence:
    """Everything the signals read, for one project."""

    keywords: set[str]
    peers: _Peers
    co: _CoUse
    tallies: dict[uuid.UUID, UsageTally]
    names: dict[uuid.UUID, str]
    # Each reviewed candidate's (mean rating, review count).
    reviews: dict[uuid.UUID, tuple[float, int]] = field(default_factory=dict)


class Recommender:
    def __init__(
        self,
        store: RecommendStore,
        projects: ProjectRegistry,
        *,
        reviews: ReviewSummaries = no_reviews,
    ) -> None:
        self.store = store
        self.projects = projects
        self.reviews = reviews

    async def recommend(
        self, project_id: uuid.UUID, *, max_results: int, types: list[ArtifactType]
    ) -> list[Recommendation]:
        project = await self.projects.get_project(project_id)
        own = (await self.store.profiles([project_id])).get(project_id, PeerProfile())
        evidence = await self._evidence(project, own)
        candidates = await self.store.candidates(
            ids=set(evidence.peers.score) | set(evidence.co.score),
            tagged=evidence.keywords,
            types=types,
            limit=MAX_CANDIDATES,
        )
        evidence.tallies = await self.store.tallies(list(candidates))
        evidence.reviews = await self.reviews(list(candidates)) if candidates else {}
        results: list[Recommendation] = []
        for artifact in candidates.values():
            if artifact.id in own.used or artifact.origin_project_id == project_id:
                continue
            found = _recommendation(artifact, evidence)
            if found is not None:
                results.append(found)
        results.sort(key=lambda r: (-r.score, str(r.artifact.id)))
        return results[:max_results]

    async def _evidence(self, project: Project, own: PeerProfile) -> _Evidence:
        own_keywords = _own_keywords(project, own)
        peers = await self._similar(project.id, own, own_keywords)
        helped = sorted(
            {a for a, outcome in own.usages if outcome is not UsageOutcome.HARMFUL}, key=str
        )
        co = await self._co_used(project.id, helped)
        names = await self.store.artifact_names(helped)
        return _Evidence(own_keywords, peers, co, {}, names)

    async def _co_used(self, project_id: uuid.UUID, own: list[uuid.UUID]) -> _CoUse:
        """Cosine co-usage with the project's artifacts: together / sqrt(users x users)."""
        pairs = await self.store.co_usage(project_id, own)
        co = _CoUse()
        if not pairs:
            return co
        tallies = await self.store.tallies(sorted({a for pair in pairs for a in pair}, key=str))
        users = {a: max(t.projects - t.harmed, 1) for a, t in tallies.items()}
        for (other, mine), together in pairs.items():
            if other in own:
                continue
            cosine = together / (
                math.sqrt(users.get(mine, 1)) * users.get(other, 1) ** CO_USERS_EXPONENT
            )
            co.score[other] += cosine
            co.with_[other].append((cosine, mine))
        co.top = max(co.score.values(), default=0.0)
        return co

    async def _similar(
        self, project_id: uuid.UUID, own: PeerProfile, own_keywords: set[str]
    ) -> _Peers:
        """The most similar projects' usages, weighed by similarity, outcome and success.

        The database picks them (0.5 x Jaccard of keywords + 0.5 x Jaccard of used
        artifacts, among the MAX_PEER_PROJECTS most recently updated projects): only
        the chosen few profiles are read."""
        similar = await self.store.similar(
            project_id,
            own_keywords,
            len(own.used),
            window=MAX_PEER_PROJECTS,
            limit=MAX_SIMILAR_PROJECTS,
        )
        profiles = await self.store.profiles([pid for _, pid in similar])
        names = await self.store.project_names([pid for _, pid in similar])
        peers = _Peers()
        for sim, pid in similar:
            peer = profiles.get(pid)
            if peer is None:  # deleted meanwhile
                continue
            for artifact_id, outcome in peer.usages:
                weight = OUTCOME_WEIGHT[outcome] * project_factor(peer.succeeded, peer.score)
                if weight > 0:
                    peers.score[artifact_id] += sim * weight
                    peers.users[artifact_id].add(names.get(pid, str(pid)))
        peers.top = max(peers.score.values(), default=0.0)
        return peers


def _own_keywords(project: Project, own: PeerProfile) -> set[str]:
    team_skills = [s for m in project.team for s in m.skills]
    return keywords(project.labels, team_skills, own.tags) | project.required_skills


def _parts(artifact: Artifact, e: _Evidence) -> list[tuple[Reason, float, str]]:
    """Each signal's value (0..1) for the artifact, and its detail."""
    users = e.peers.users.get(artifact.id, set())
    matching = sorted(set(artifact.tags) & e.keywords)
    with_ = [
        e.names.get(a, str(a))
        for _, a in sorted(e.co.with_.get(artifact.id, []), key=lambda p: -p[0])
    ]
    return [
        (
            Reason.CO_USED,
            e.co.score.get(artifact.id, 0.0) / e.co.top if e.co.top else 0.0,
            "used together with {}".format(", ".join(with_[:5])),
        ),
        (
            Reason.SIMILAR,
            e.peers.score.get(artifact.id, 0.0) / e.peers.top if e.peers.top else 0.0,
            "used by {} similar project(s): {}".format(len(users), ", ".join(sorted(users)[:5])),
        ),
        (
            Reason.TAGS,
            len(matching) / len(artifact.tags) if artifact.tags else 0.0,
            "tags matching the project: " + ", ".join(matching[:10]),
        ),
        (Reason.IMPACT, artifact.impact_score / 100.0, f"impact score {artifact.impact_score:.1f}"),
        _reviewed(e.reviews.get(artifact.id)),
    ]


def _reviewed(summary: tuple[float, int] | None) -> tuple[Reason, float, str]:
    """The reviews' signal: the mean rating on 0..1, shrunk towards 0 while they are few."""
    if summary is None or summary[1] <= 0:
        return Reason.REVIEWED, 0.0, "no reviews"
    mean, count = summary
    value = max(0.0, (mean - 1.0) / 4.0) * count / (count + REVIEW_PRIOR)
    return Reason.REVIEWED, value, f"rated {mean:.1f} of 5 in {count} review(s)"


def _recommendation(artifact: Artifact, e: _Evidence) -> Recommendation | None:
    """The artifact's score and its reasons, strongest first (None: nothing speaks for it,
    or it harmed too many of its users)."""
    harm = e.tallies.get(artifact.id, UsageTally()).harm_share
    if harm >= MAX_HARM_SHARE:
        return None
    parts = [(kind, SIGNALS[kind] * value, detail) for kind, value, detail in _parts(artifact, e)]
    total = sum(p[1] for p in parts)
    if total <= 0:
        return None
    reasons = [
        (kind, detail, contribution / total)
        for kind, contribution, detail in sorted(parts, key=lambda p: -p[1])
        if contribution > 0
    ]
    return Recommendation(artifact=artifact, score=total * (1.0 - harm) ** 2, reasons=reasons)
