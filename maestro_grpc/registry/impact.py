"""The impact score: one pure formula, documented on `maestro.registry.v1.Artifact`.

Used by LogArtifactUsage, by the indexer, by ListArtifactUsages (each usage's
part) and by Prediction's features (through registry/read.py), so all of them
always agree. Nothing here does I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from maestro_grpc.registry.model import UsageImpact, UsageOutcome

OUTCOME_WEIGHT = {
    UsageOutcome.HELPFUL: 1.0,
    UsageOutcome.NEUTRAL: 0.25,
    UsageOutcome.UNKNOWN: 0.1,
    UsageOutcome.HARMFUL: -1.0,
}
SQUASH_SCALE = 5.0


@dataclass(frozen=True)
class UsageSignal:
    """What the score needs of one usage: its outcome, time, and the using project's success."""

    outcome: UsageOutcome
    use_time: datetime
    project_succeeded: bool | None = None
    project_score: float | None = None


def project_factor(succeeded: bool | None, score: float | None) -> float:
    """How much a usage counts, by the success of the project that used the artifact."""
    if score is not None:
        return 0.5 + score
    if succeeded is None:
        return 1.0
    return 1.5 if succeeded else 0.5


def usage_term(usage: UsageSignal, now: datetime, half_life_days: float) -> UsageImpact:
    """A usage's term of the sum: weight x project factor x age decay (no points yet)."""
    age_days = max((now - usage.use_time).total_seconds(), 0.0) / 86_400
    weight = OUTCOME_WEIGHT[usage.outcome]
    factor = project_factor(usage.project_succeeded, usage.project_score)
    decay = 0.5 ** (age_days / half_life_days)
    return UsageImpact(weight, factor, decay, weight * factor * decay)


def squash(total: float) -> float:
    return 100.0 * (1.0 - math.exp(-max(total, 0.0) / SQUASH_SCALE))


def impact_score(usages: Iterable[UsageSignal], now: datetime, half_life_days: float) -> float:
    """Sum each usage's weight x project factor x age decay, squashed to 0..100."""
    return squash(sum(usage_term(u, now, half_life_days).contribution for u in usages))


def usage_impacts(
    usages: Sequence[UsageSignal], now: datetime, half_life_days: float
) -> list[UsageImpact]:
    """Each usage's term and points (score x term / sum: they add up to the score;
    none when the sum is not positive, the score 0), in order."""
    terms = [usage_term(u, now, half_life_days) for u in usages]
    total = sum(t.contribution for t in terms)
    score = squash(total)
    if total <= 0:
        return terms
    return [replace(t, points=score * t.contribution / total) for t in terms]
