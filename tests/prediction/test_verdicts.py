"""Which analyses reach a verdict the feed tells (prediction/domain/verdicts.py), table-driven
over plain analyses; the feed itself is tested through the RPCs in
tests/people/test_experiment_feed.py."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from maestro_grpc.prediction.domain.analysis import Analysis, MetricAnalysis, MetricComparison
from maestro_grpc.prediction.domain.verdicts import announce, reached
from maestro_grpc.prediction.model import (
    Adjustment,
    Experiment,
    ExperimentUnit,
    MetricRole,
    MetricSpec,
    SampleRatio,
    Variant,
    Verdict,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def analysis(
    verdicts: list[tuple[MetricRole, Verdict]], *, stopped: bool = False, at: datetime = NOW
) -> Analysis:
    experiment = Experiment(
        id=uuid.UUID(int=1),
        name="pairing",
        description="",
        unit=ExperimentUnit.PROJECT,
        variants=(Variant("control", 1), Variant("treatment", 1)),
        metrics=tuple(MetricSpec(f"m{i}", role) for i, (role, _) in enumerate(verdicts)),
        salt="s",
        create_time=NOW - timedelta(days=30),
        start_time=NOW - timedelta(days=30),
        end_time=NOW if stopped else None,
    )
    metrics = [
        MetricAnalysis(
            MetricSpec(f"m{i}", role),
            [],
            [MetricComparison("treatment", "control", True, verdict=verdict)],
        )
        for i, (role, verdict) in enumerate(verdicts)
    ]
    return Analysis(
        experiment, metrics, SampleRatio(0.0, 1, 1.0, False), 0.95, at, Adjustment.NONE, [0.5, 0.5]
    )


P, S, G = MetricRole.PRIMARY, MetricRole.SECONDARY, MetricRole.GUARDRAIL
CASES = [
    ([(P, Verdict.BETTER)], False, ["m0: treatment against control, better"]),
    ([(P, Verdict.WORSE)], False, ["m0: treatment against control, worse"]),
    ([(P, Verdict.NOT_ENOUGH_DATA)], True, []),
    ([(P, Verdict.NO_DETECTABLE_EFFECT)], False, []),
    (
        [(P, Verdict.NO_DETECTABLE_EFFECT)],
        True,
        ["m0: treatment against control, no detectable effect"],
    ),
    ([(S, Verdict.BETTER)], False, []),
    (
        [(P, Verdict.NOT_ENOUGH_DATA), (G, Verdict.GUARDRAIL_BREACHED)],
        False,
        ["m1: treatment against control, guardrail breached"],
    ),
]


@pytest.mark.parametrize(("verdicts", "stopped", "lines"), CASES)
def test_what_counts_as_a_verdict(
    verdicts: list[tuple[MetricRole, Verdict]], stopped: bool, lines: list[str]
) -> None:
    assert reached(analysis(verdicts, stopped=stopped)) == lines


def test_an_analysis_ending_before_the_stop_is_not_final() -> None:
    early = analysis([(P, Verdict.NO_DETECTABLE_EFFECT)], stopped=True, at=NOW - timedelta(days=1))
    assert reached(early) == []


async def test_a_failing_feed_does_not_fail_the_analysis() -> None:
    told: list[tuple[uuid.UUID, list[uuid.UUID], str, str]] = []

    async def sink(
        experiment_id: uuid.UUID, projects: Sequence[uuid.UUID], summary: str, key: str
    ) -> None:
        told.append((experiment_id, list(projects), summary, key))
        raise ConnectionError("the feed is down")

    projects = [uuid.UUID(int=3), uuid.UUID(int=2), uuid.UUID(int=3)]
    await announce(sink, analysis([(P, Verdict.BETTER)]), projects)
    [(experiment_id, sent, summary, key)] = told
    assert experiment_id == uuid.UUID(int=1)
    assert sent == [uuid.UUID(int=2), uuid.UUID(int=3)]
    assert (
        summary == "experiment 'pairing' reached a verdict: m0: treatment against control, better"
    )
    # The same verdicts, the same key; none reached, nothing told.
    await announce(sink, analysis([(P, Verdict.BETTER)]), projects)
    assert told[1][3] == key
    await announce(sink, analysis([(P, Verdict.NOT_ENOUGH_DATA)]), projects)
    assert len(told) == 2
