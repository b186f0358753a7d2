"""The artifact impact score (documented on `maestro.registry.v1.Artifact`).

One function, used by LogArtifactUsage and by the indexer worker, so both
always agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from maestro_grpc.registry.model import UsageOutcome

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


def impact_score(usages: Iterable[UsageSignal], now: datetime, half_life_days: float) -> float:
    """Sum each usage's weight x project factor x age decay, squashed to 0..100."""
    total = 0.0
    for usage in usages:
        age_days = max((now - usage.use_time).total_seconds(), 0.0) / 86_400
        decay = 0.5 ** (age_days / half_life_days)
        total += (
            OUTCOME_WEIGHT[usage.outcome]
            * project_factor(usage.project_succeeded, usage.project_score)
            * decay
        )
    return 100.0 * (1.0 - math.exp(-max(total, 0.0) / SQUASH_SCALE))
