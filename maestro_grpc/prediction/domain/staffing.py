"""RecommendTeam's answer: the current team and the proposals, scored and explained.

The search itself is `teams.py`; this module turns the candidates into the
pool it searches, scores the current team the same way, and writes each
proposal's reasons: its predicted probability against the current team's
(only when there is a current team), the required skills it covers, and the
team features that move the log-odds most against the current team's. When
the model has shown no skill the ranking says so first. A proposal's
extrapolation is its team features' alone (the open observation window is
the same for every proposal and reported apart).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from maestro_grpc.prediction.domain import teams
from maestro_grpc.prediction.domain.explain import LoadedModel
from maestro_grpc.prediction.domain.skill import Skill
from maestro_grpc.prediction.domain.teamfeatures import CandidatePool
from maestro_grpc.prediction.domain.window import Features, Member, ProjectRecord, Window
from maestro_grpc.prediction.model import (
    Candidate,
    Explanation,
    Limits,
    Proposal,
    Recommendation,
)
from maestro_grpc.registry.read import TeamMember


@dataclass(frozen=True)
class Staffing:
    """What one recommendation is about: the model, the project and its own features."""

    model: LoadedModel
    project: ProjectRecord
    window: Window
    features: Features
    skill: Skill = field(default_factory=lambda: Skill(True, ""))


def current_team(members: Sequence[TeamMember]) -> list[Candidate]:
    """The project's members today, as candidates."""
    return [
        Candidate(
            person_id=m.person_id,
            display_name=m.display_name,
            role=m.role.value,
            years_experience=float(m.years_experience),
            skills=frozenset(s.lower() for s in m.skills),
            availability=float(m.allocation),
        )
        for m in members
        if m.leave_time is None
    ]


def recommend(
    staffing: Staffing,
    candidates: list[Candidate],
    current: list[Candidate],
    limits: Limits,
    max_results: int,
) -> Recommendation:
    """The current team's proposal and the best `max_results` teams from `candidates`."""
    required = staffing.project.required_skills
    by_model = staffing.skill.has_skill
    baseline = _current(staffing, current) if current else None
    scorer = teams.TeamScorer(
        staffing.model, staffing.features, _pool(candidates, required), by_model=by_model
    )
    seed = int.from_bytes(staffing.project.id.bytes[:4], "big")
    found = teams.search(scorer, [c.availability for c in candidates], limits, max_results, seed)
    proposals = []
    for team in found:
        mask = np.zeros(len(candidates), dtype=bool)
        mask[list(team.members)] = True
        explained = staffing.model.explain(scorer.features(mask), True)
        members = [candidates[i] for i in team.members]
        reasons = [] if by_model else [staffing.skill.reason]
        reasons.append(_probability_reason(team.probability, baseline))
        reasons += _coverage_reason(required, members)
        reasons += _top_team_reasons(explained, baseline[1] if baseline else None)
        proposals.append(
            Proposal(
                members=members,
                probability=team.probability,
                coverage=team.coverage,
                score=team.score,
                reasons=reasons,
                extrapolation_reasons=_team_only(explained),
            )
        )
    return Recommendation(
        current=baseline[0] if baseline else None,
        proposals=proposals,
        model_version=staffing.model.version,
        by_model=by_model,
        ranking_reason=staffing.skill.reason,
        window_open=not staffing.window.complete,
    )


def _probability_reason(probability: float, baseline: tuple[Proposal, Explanation] | None) -> str:
    if baseline is None:
        return (
            f"predicted probability of success {probability:.2f} "
            "(the project has nobody on its team yet to compare with)"
        )
    return (
        f"predicted probability of success {probability:.2f} against "
        f"{baseline[0].probability:.2f} with the current team"
    )


def _team_only(explained: Explanation) -> list[str]:
    """The extrapolation reasons about team features (the window's is reported apart)."""
    return [r for r in explained.extrapolation_reasons if r.startswith("team.")]


def _member(candidate: Candidate) -> Member:
    return Member(
        role=candidate.role,
        years_experience=candidate.years_experience,
        skills=candidate.skills,
        allocation=candidate.availability,
    )


def _pool(people: Sequence[Candidate], required: frozenset[str]) -> CandidatePool:
    return CandidatePool.of([_member(c) for c in people], required)


def _current(staffing: Staffing, current: list[Candidate]) -> tuple[Proposal, Explanation]:
    """The current team scored as a proposal, and its explanation."""
    required = staffing.project.required_skills
    scorer = teams.TeamScorer(
        staffing.model,
        staffing.features,
        _pool(current, required),
        by_model=staffing.skill.has_skill,
    )
    everyone = np.ones((1, len(current)), dtype=bool)
    p, cov, score = scorer.score(everyone)
    explained = staffing.model.explain(scorer.features(everyone), True)
    proposal = Proposal(
        members=current,
        probability=float(p[0]),
        coverage=float(cov[0]),
        score=float(score[0]),
        reasons=_coverage_reason(required, current) + _top_team_reasons(explained, None),
        extrapolation_reasons=_team_only(explained),
    )
    return proposal, explained


def _coverage_reason(required: frozenset[str], members: Sequence[Candidate]) -> list[str]:
    if not required:
        return []
    covered = set().union(*(m.skills for m in members)) if members else set()
    missing = sorted(required - covered)
    if not missing:
        return [f"covers all {len(required)} required skills"]
    return [
        f"covers {len(required) - len(missing)} of {len(required)} required skills "
        f"(missing: {', '.join(missing)})"
    ]


def _top_team_reasons(
    explained: Explanation, baseline: Explanation | None, limit: int = 3
) -> list[str]:
    """The team features that move the log-odds most (against the baseline team's)."""
    before = {c.feature: c for c in baseline.contributions} if baseline else {}
    moves = []
    for c in explained.contributions:
        if not c.feature.startswith("team."):
            continue
        other = before.get(c.feature)
        delta = c.contribution - (other.contribution if other else 0.0)
        if abs(delta) < 1e-6:
            continue
        text = f"{c.feature} = {c.value:.3g}"
        if other is not None:
            text += f" (current team {other.value:.3g})"
        verb = "raises" if delta > 0 else "lowers"
        moves.append((abs(delta), f"{text} {verb} the log-odds of success by {abs(delta):.2f}"))
    moves.sort(key=lambda m: -m[0])
    return [text for _, text in moves[:limit]]
