"""The feed's "experiment verdict reached": what an analysis decided, in one line and a key.

A verdict is reached when a primary metric's comparison is BETTER or WORSE, or a
guardrail's is GUARDRAIL_BREACHED; once the analysis reaches the experiment's stop, a
primary's NO_DETECTABLE_EFFECT is one too (the evidence will not grow any more).
NOT_ENOUGH_DATA never is. The same verdicts make the same key, so analysing again tells
nobody twice, while a changed verdict is news.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence

from maestro_grpc.prediction.domain.analysis import Analysis
from maestro_grpc.prediction.model import MetricRole, Verdict, VerdictSink

log = logging.getLogger("maestro.prediction.verdicts")

DECIDED = {Verdict.BETTER, Verdict.WORSE}


def reached(analysis: Analysis) -> list[str]:
    """One line per comparison that decided something, in the analysis' order."""
    stop = analysis.experiment.end_time
    final = stop is not None and analysis.end_time >= stop
    lines = []
    for metric in analysis.metrics:
        primary = metric.metric.role is MetricRole.PRIMARY
        for c in metric.comparisons:
            decided = (
                (primary and c.verdict in DECIDED)
                or c.verdict is Verdict.GUARDRAIL_BREACHED
                or (primary and final and c.verdict is Verdict.NO_DETECTABLE_EFFECT)
            )
            if decided:
                said = c.verdict.value.replace("_", " ")
                lines.append(f"{metric.metric.name}: {c.variant} against {c.control}, {said}")
    return lines


async def announce(sink: VerdictSink, analysis: Analysis, projects: Sequence[uuid.UUID]) -> None:
    """Tell the sink of the verdicts reached, if any (its trouble is not the analysis')."""
    lines = reached(analysis)
    if not lines or not projects:
        return
    experiment = analysis.experiment
    summary = f"experiment {experiment.name!r} reached a verdict: " + "; ".join(lines)
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:32]
    try:
        await sink(experiment.id, sorted(set(projects), key=str), summary, f"verdict:{digest}")
    except Exception as error:
        log.warning("could not tell followers of experiment %s: %s", experiment.id, error)
