"""RecommendTeam's search: local search over teams drawn from a candidate pool.

A team is scored by the meta-model with the project's own features (process,
artifacts) and the team features of the proposed members (`teamfeatures.
team_feature_columns`: every member present for the whole window), plus a
bonus for covering the project's required skills:

    score = P(success) + 0.25 * skill coverage

or, when the model version has shown no skill (`by_model` false),

    score = skill coverage + 0.25 * min(mean years of experience, 20) / 20

The search starts from a greedy team (add the best member while it helps),
from the cheapest team (so a feasible team is found whenever one exists)
and from a few random feasible teams, and from each climbs: all neighbours
(add one candidate, remove one member, swap one for one) are scored at once
and the best is taken while it improves the score. Every feasible team seen
is remembered; the best distinct ones are returned. A team is feasible when
min_size <= size <= max_size and its total allocation is within the budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from maestro_grpc.errors import FailedPrecondition
from maestro_grpc.prediction.domain.explain import LoadedModel
from maestro_grpc.prediction.domain.teamfeatures import (
    CandidatePool,
    skill_coverage,
    team_feature_columns,
)
from maestro_grpc.prediction.model import Limits

SKILL_WEIGHT = 0.25
EXPERIENCE_WEIGHT = 0.25
EXPERIENCE_CAP = 20.0
RANDOM_STARTS = 4
MAX_CLIMB_STEPS = 60
IMPROVEMENT = 1e-9


@dataclass(frozen=True)
class ScoredTeam:
    members: tuple[int, ...]
    probability: float
    coverage: float
    score: float


class TeamScorer:
    """Scores many teams of one project at once."""

    def __init__(
        self,
        model: LoadedModel,
        base_features: Mapping[str, float | None],
        pool: CandidatePool,
        *,
        by_model: bool = True,
    ) -> None:
        self.model = model
        self.pool = pool
        self.by_model = by_model
        self.base_row = model.row(base_features)
        self.team_columns = [
            (model.index[name], name)
            for name in team_feature_columns(pool, np.zeros((1, len(pool.years)), dtype=bool))
            if name in model.index
        ]

    def rows(self, membership: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
        rows = np.repeat(self.base_row[np.newaxis, :], membership.shape[0], axis=0)
        columns = team_feature_columns(self.pool, membership)
        for j, name in self.team_columns:
            rows[:, j] = columns[name]
        return rows

    def features(self, membership: npt.NDArray[np.bool_]) -> dict[str, float | None]:
        """The full feature mapping of one team (for explaining it)."""
        row = self.rows(membership.reshape(1, -1))[0]
        return {
            name: (None if np.isnan(row[j]) else float(row[j]))
            for name, j in self.model.index.items()
        }

    def score(self, membership: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.float64], ...]:
        probability = self.model.probabilities(self.rows(membership))
        coverage = skill_coverage(self.pool, membership)
        if self.by_model:
            return probability, coverage, probability + SKILL_WEIGHT * coverage
        m = membership.astype(np.float64)
        size = np.maximum(m.sum(axis=1), 1.0)
        experience = (m @ np.minimum(self.pool.years, EXPERIENCE_CAP)) / size / EXPERIENCE_CAP
        return probability, coverage, coverage + EXPERIENCE_WEIGHT * experience


def check_limits(allocations: Sequence[float], limits: Limits, left_out: int = 0) -> None:
    """FAILED_PRECONDITION when no team of the pool can meet the limits."""
    if limits.min_size > len(allocations):
        busy = f" ({left_out} left out or reduced: allocated elsewhere)" if left_out else ""
        raise FailedPrecondition(
            f"limits.min_size is {limits.min_size} but the pool has only "
            f"{len(allocations)} available candidates{busy}",
            reason="NO_FEASIBLE_TEAM",
        )
    if limits.max_total_allocation is not None:
        cheapest = sum(sorted(allocations)[: limits.min_size])
        if cheapest > limits.max_total_allocation + 1e-9:
            raise FailedPrecondition(
                f"the {limits.min_size} smallest allocations of the pool sum to "
                f"{cheapest:.3g}, above limits.max_total_allocation "
                f"{limits.max_total_allocation:.3g}",
                reason="NO_FEASIBLE_TEAM",
            )


Mask = npt.NDArray[np.bool_]
Start = tuple[Mask, float]


def search(
    scorer: TeamScorer,
    allocations: Sequence[float],
    limits: Limits,
    max_results: int,
    seed: int,
) -> list[ScoredTeam]:
    """The best distinct feasible teams found, best first."""
    found = _Search(scorer, allocations, limits, seed)
    starts = [found.greedy(), found.cheapest()]
    starts += [found.random_start() for _ in range(RANDOM_STARTS)]
    for start in starts:
        if start is not None:
            found.climb(*start)
    ranked = sorted(found.seen.values(), key=lambda t: (-t.score, t.members))
    return ranked[:max_results]


class _Search:
    """One search's pool, limits and random source, and every feasible team it has seen."""

    def __init__(
        self, scorer: TeamScorer, allocations: Sequence[float], limits: Limits, seed: int
    ) -> None:
        self.scorer = scorer
        self.limits = limits
        self.n = len(allocations)
        self.alloc = np.asarray(allocations, dtype=np.float64)
        self.budget = (
            np.inf if limits.max_total_allocation is None else limits.max_total_allocation + 1e-9
        )
        self.seen: dict[tuple[int, ...], ScoredTeam] = {}
        self.rng = np.random.default_rng(seed)

    def feasible(self, masks: Mask) -> Mask:
        size = masks.sum(axis=1)
        return np.asarray(
            (size >= self.limits.min_size)
            & (size <= self.limits.max_size)
            & (masks @ self.alloc <= self.budget)
        )

    def evaluate(self, masks: Mask) -> npt.NDArray[np.float64]:
        """Scores of the masks (-inf where infeasible); remembers the feasible ones."""
        ok = self.feasible(masks)
        scores = np.full(masks.shape[0], -np.inf)
        if ok.any():
            probability, coverage, score = self.scorer.score(masks[ok])
            scores[ok] = score
            for mask, p, c, s in zip(masks[ok], probability, coverage, score, strict=True):
                key = tuple(int(i) for i in np.flatnonzero(mask))
                self.seen[key] = ScoredTeam(key, float(p), float(c), float(s))
        return scores

    def neighbours(self, mask: Mask) -> Mask:
        """Every team one step away: one added, one removed, or one swapped for another."""
        inside = np.flatnonzero(mask)
        outside = np.flatnonzero(~mask)
        out = []
        for j in outside:
            m = mask.copy()
            m[j] = True
            out.append(m)
        for i in inside:
            m = mask.copy()
            m[i] = False
            out.append(m)
            for j in outside:
                s = m.copy()
                s[j] = True
                out.append(s)
        return np.array(out, dtype=bool).reshape(len(out), self.n)

    def climb(self, mask: Mask, score: float) -> None:
        """Take the best neighbour while it improves the score."""
        for _ in range(MAX_CLIMB_STEPS):
            candidates = self.neighbours(mask)
            if not len(candidates):
                return
            scores = self.evaluate(candidates)
            best = int(np.argmax(scores))
            if scores[best] <= score + IMPROVEMENT:
                return
            mask, score = candidates[best], float(scores[best])

    def greedy(self) -> Start | None:
        """Add the best member while it helps (None: no team reaches the minimum size)."""
        mask = np.zeros(self.n, dtype=bool)
        score = -np.inf
        while mask.sum() < self.limits.max_size:
            step = self._best_addition(mask)
            if step is None:
                break
            grown, grown_score = step
            if mask.sum() + 1 > self.limits.min_size and grown_score <= score + IMPROVEMENT:
                break
            mask, score = grown, grown_score
        if int(mask.sum()) < self.limits.min_size:
            return None
        return mask, score

    def _best_addition(self, mask: Mask) -> Start | None:
        """The best affordable team of one more member (None: there is none)."""
        additions = np.array([mask | (np.arange(self.n) == j) for j in np.flatnonzero(~mask)])
        if not len(additions):
            return None
        affordable = additions @ self.alloc <= self.budget
        if not affordable.any():
            return None
        if int(mask.sum()) + 1 >= self.limits.min_size:
            scores = self.evaluate(additions)
        else:
            # Below the minimum nothing is feasible yet: rank by the
            # relaxed score of the partial team.
            scores = np.full(len(additions), -np.inf)
            scores[affordable] = self.scorer.score(additions[affordable])[2]
        best = int(np.argmax(scores))
        if not np.isfinite(scores[best]):
            return None
        return additions[best], float(scores[best])

    def cheapest(self) -> Start | None:
        """The min_size members of least allocation: feasible whenever any team is.

        (check_limits admits a pool by exactly this team, so the search always
        has one feasible start: greedy and random starts can all pick a member
        whose allocation leaves no room for the rest.)
        """
        order = np.argsort(self.alloc, kind="stable")[: self.limits.min_size]
        mask = np.zeros(self.n, dtype=bool)
        mask[order] = True
        score = self.evaluate(mask.reshape(1, -1))[0]
        return (mask, float(score)) if np.isfinite(score) else None

    def random_start(self) -> Start | None:
        """A random affordable team of a random feasible size (None: it is not feasible)."""
        size = int(self.rng.integers(self.limits.min_size, min(self.limits.max_size, self.n) + 1))
        mask = np.zeros(self.n, dtype=bool)
        total = 0.0
        for j in self.rng.permutation(self.n):
            if mask.sum() >= size:
                break
            if total + self.alloc[j] <= self.budget:
                mask[j] = True
                total += self.alloc[j]
        score = self.evaluate(mask.reshape(1, -1))[0]
        return (mask, float(score)) if np.isfinite(score) else None
