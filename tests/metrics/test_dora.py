"""DORA: the plain function on the hand-worked fixture and band edges, then through gRPC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import cast

import grpc
import pytest

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro_grpc.metrics.domain import dora
from maestro_grpc.metrics.domain.dora import THRESHOLDS, Band
from tests.helpers import expect_error, expect_invalid, ts
from tests.metrics import dora_fixture as fx
from tests.metrics.helpers import Metrics, deployment, incident, sha


def test_band_edges_2023_and_2021() -> None:
    t23, t21 = THRESHOLDS[2023], THRESHOLDS[2021]

    def freq(week: float, month: float, half_year: float, t: dora.Thresholds) -> Band:
        return dora.frequency_band({"week": week, "month": month, "half_year": half_year}, t)

    cases = [
        # DevLake's readings: elite every day of the median week.
        (freq(7, 30, 180, t23), Band.ELITE),
        (freq(6.5, 28, 170, t23), Band.HIGH),
        (freq(1, 4, 26, t23), Band.HIGH),
        (freq(0.5, 2, 13, t23), Band.MEDIUM),
        (freq(0, 1, 6, t23), Band.MEDIUM),
        (freq(0, 0.5, 3, t23), Band.LOW),
        (freq(7, 30, 180, t21), Band.ELITE),
        (freq(0, 1, 6, t21), Band.HIGH),  # monthly is high in 2021
        (freq(0, 0.5, 1, t21), Band.MEDIUM),
        (freq(0, 0, 0.5, t21), Band.LOW),
        (dora.lead_time_band(timedelta(hours=23), t23), Band.ELITE),
        (dora.lead_time_band(timedelta(hours=23), t21), Band.HIGH),
        (dora.lead_time_band(timedelta(days=1), t23), Band.HIGH),
        (dora.lead_time_band(timedelta(days=29), t23), Band.MEDIUM),
        (dora.lead_time_band(timedelta(days=30), t23), Band.LOW),
        (dora.lead_time_band(timedelta(days=179), t21), Band.MEDIUM),
        (dora.failure_rate_band(0.05, t23), Band.ELITE),
        (dora.failure_rate_band(0.06, t23), Band.HIGH),
        (dora.failure_rate_band(0.15, t23), Band.MEDIUM),
        (dora.failure_rate_band(0.16, t23), Band.LOW),
        (dora.failure_rate_band(0.15, t21), Band.ELITE),
        (dora.failure_rate_band(0.30, t21), Band.MEDIUM),
        (dora.recovery_band(timedelta(minutes=59), t23), Band.ELITE),
        (dora.recovery_band(timedelta(hours=23), t23), Band.HIGH),
        (dora.recovery_band(timedelta(days=6), t23), Band.MEDIUM),
        (dora.recovery_band(timedelta(days=7), t21), Band.LOW),
    ]
    for got, expected in cases:
        assert got == expected


def test_no_data_is_unbanded() -> None:
    """Item 12: no deployment in the window is no band (as DoraBand says), not LOW."""
    result = dora.dora(
        start=fx.START,
        end=fx.END,
        environment="production",
        deployments=[],
        incidents=[],
        changes=[],
    )
    assert result.deployments == 0
    assert result.deployment_frequency_band is None
    assert result.lead_time_band is None
    assert result.change_failure_rate_band is None
    assert result.time_to_restore_band is None


@pytest.mark.parametrize(
    ("start", "days", "medians"),
    [
        # Thursday 5 Mar to Wednesday 11 Mar: one week, not two calendar halves.
        (datetime(2026, 3, 5, tzinfo=UTC), 7, {"week": 2.0, "month": 2.0, "half_year": 2.0}),
        # 10 days: the week 8-14 March, counted back from the last day, holds
        # Sunday's deployment; Saturday's is in the 3 days left out.
        (datetime(2026, 3, 5, tzinfo=UTC), 10, {"week": 1.0, "month": 2.0, "half_year": 2.0}),
        # 14 days: two weeks [2, 0]: the interpolated median is 1.
        (datetime(2026, 3, 5, tzinfo=UTC), 14, {"week": 1.0, "month": 2.0, "half_year": 2.0}),
    ],
)
def test_deployment_days_per_whole_period(
    start: datetime, days: int, medians: dict[str, float]
) -> None:
    """Item 13: deployments on Saturday 7 and Sunday 8 March."""
    deployed = {date(2026, 3, 7), date(2026, 3, 8)}
    window = dora.window_days(start, start + timedelta(days=days))
    found = {p: dora.median_days(deployed, window, p) for p in dora.PERIOD_DAYS}
    assert found == medians


async def _load(metrics: Metrics, project: str) -> None:
    response = await metrics.RecordMetrics(
        ms.RecordMetricsRequest(batch=mp.MetricBatch(events=fx.events(project)))
    )
    assert list(response.rejected) == []
    assert response.stored_events == len(fx.events(project))


@pytest.mark.parametrize("report", ["2023", "2021"])
async def test_hand_worked_fixture_through_grpc(
    metrics: Metrics, project: str, report: str
) -> None:
    await _load(metrics, project)
    thresholds = ms.DORA_THRESHOLDS_2021 if report == "2021" else ms.DORA_THRESHOLDS_2023
    got = await metrics.GetDoraMetrics(
        ms.GetDoraMetricsRequest(
            project_id=project,
            start_time=ts(fx.START),
            end_time=ts(fx.END),
            thresholds=thresholds if report == "2021" else ms.DORA_THRESHOLDS_UNSPECIFIED,
        )
    )
    assert got.deployments == 5
    assert got.deployment_days == 4
    assert got.deployment_days_per_week == 1.0
    assert got.deployment_frequency_band == ms.DORA_BAND_HIGH
    assert got.median_lead_time.ToTimedelta() == timedelta(hours=24)
    assert got.lead_time_changes == 5
    assert got.lead_time_band == ms.DORA_BAND_HIGH
    assert got.failed_deployments == 4
    assert got.change_failure_rate == pytest.approx(0.8)
    assert got.change_failure_rate_band == ms.DORA_BAND_LOW
    assert got.median_time_to_restore.ToTimedelta() == timedelta(hours=5, minutes=15)
    assert got.restored_incidents == 2
    assert got.time_to_restore_band == ms.DORA_BAND_HIGH
    assert got.thresholds == thresholds


async def test_a_window_of_the_first_week_only(metrics: Metrics, project: str) -> None:
    await _load(metrics, project)
    got = await metrics.GetDoraMetrics(
        ms.GetDoraMetricsRequest(
            project_id=project,
            start_time=ts(fx.START),
            end_time=ts(fx.START + timedelta(days=7)),
        )
    )
    # D1, D2, D3 on two days of one week; I1 and I2 make D1 and D3 failures.
    assert (got.deployments, got.deployment_days, got.deployment_days_per_week) == (3, 2, 2.0)
    assert got.failed_deployments == 2
    assert got.median_lead_time.ToTimedelta() == timedelta(hours=24)
    assert got.lead_time_band == ms.DORA_BAND_HIGH


async def test_dora_bad_requests(metrics: Metrics, project: str) -> None:
    await expect_invalid(
        metrics.GetDoraMetrics(ms.GetDoraMetricsRequest(project_id=project)), "start_time"
    )
    await expect_invalid(
        metrics.GetDoraMetrics(
            ms.GetDoraMetricsRequest(
                project_id=project, start_time=ts(fx.END), end_time=ts(fx.START)
            )
        ),
        "end_time",
    )
    await expect_invalid(
        metrics.GetDoraMetrics(
            ms.GetDoraMetricsRequest(
                project_id=project,
                start_time=ts(fx.START),
                thresholds=cast("ms.DoraThresholds", 9),
            )
        ),
        "thresholds",
    )
    await expect_error(
        metrics.GetDoraMetrics(
            ms.GetDoraMetricsRequest(
                project_id="00000000-0000-0000-0000-000000000001",
                start_time=ts(datetime(2026, 1, 1, tzinfo=UTC)),
            )
        ),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_an_incident_after_the_window_fails_its_deployment(
    metrics: Metrics, project: str
) -> None:
    """Item 11: D1 deploys inside the window; its incident opens after it ends."""
    events = [
        deployment(project, "D1", "2026-03-03T10:00:00", [sha(1)]),
        deployment(project, "D2", "2026-03-04T10:00:00", [sha(2)]),
        incident(project, "I1", "2026-03-12T09:00:00", "2026-03-12T10:00:00", caused_by="D1"),
        # No named cause, opened after the window: the last deployment before it.
        incident(project, "I2", "2026-03-13T09:00:00"),
    ]
    response = await metrics.RecordMetrics(
        ms.RecordMetricsRequest(batch=mp.MetricBatch(events=events))
    )
    assert list(response.rejected) == []
    got = await metrics.GetDoraMetrics(
        ms.GetDoraMetricsRequest(
            project_id=project,
            start_time=ts(datetime(2026, 3, 2, tzinfo=UTC)),
            end_time=ts(datetime(2026, 3, 9, tzinfo=UTC)),
        )
    )
    assert (got.deployments, got.failed_deployments) == (2, 2)
    assert got.change_failure_rate == 1.0
    assert got.restored_incidents == 0  # opened after the window: not its recovery
    # A window with no deployment: no frequency band (item 12).
    empty = await metrics.GetDoraMetrics(
        ms.GetDoraMetricsRequest(
            project_id=project,
            start_time=ts(datetime(2026, 1, 1, tzinfo=UTC)),
            end_time=ts(datetime(2026, 2, 1, tzinfo=UTC)),
        )
    )
    assert empty.deployments == 0
    assert empty.deployment_frequency_band == ms.DORA_BAND_UNSPECIFIED


async def test_the_hand_worked_fixture_the_four_keys_way(metrics: Metrics, project: str) -> None:
    """Worked by hand from Four Keys' badge queries (see fourkeys.py):

    Sunday weeks of 2-29 March: days deployed [2, 1, 1, 0, 0] (the week of
    Sunday 29 holds one day): median 1, not Daily; weeks deployed [1, 1, 1, 0,
    0]: median 1, Weekly. Lead time pairs with a known commit: D1-c1 1440
    min, D2-c3 360, D3-c4 15840, D5-c6 60: median 900 min (15 h), One day.
    Failure: I1 names D1, so c1 and c2 are named; matched pairs 2 over the
    known commits shipped (c1, c3, c4, c6) = 0.5: 46-60%; the rollback D4 and
    the unnamed I2, I3 do not count. Restore: I1 0 h, I2 6 h (whole hours):
    median 3 h, One day.
    """
    await _load(metrics, project)
    got = await metrics.GetDoraMetrics(
        ms.GetDoraMetricsRequest(
            project_id=project,
            start_time=ts(fx.START),
            end_time=ts(fx.END),
            method=ms.DORA_METHOD_FOUR_KEYS,
        )
    )
    assert got.method == ms.DORA_METHOD_FOUR_KEYS
    assert got.thresholds == ms.DORA_THRESHOLDS_UNSPECIFIED
    assert (got.deployments, got.deployment_days, got.deployment_days_per_week) == (5, 4, 1.0)
    assert got.four_keys == ms.FourKeysBuckets(
        deployment_frequency="Weekly",
        lead_time="One day",
        change_failure_rate="46-60%",
        time_to_restore="One day",
    )
    assert got.deployment_frequency_band == ms.DORA_BAND_HIGH
    assert (got.median_lead_time.ToTimedelta(), got.lead_time_changes) == (timedelta(hours=15), 4)
    assert got.lead_time_band == ms.DORA_BAND_ELITE
    assert (got.change_failure_rate, got.failed_deployments) == (0.5, 1)
    assert got.change_failure_rate_band == ms.DORA_BAND_LOW
    assert (got.median_time_to_restore.ToTimedelta(), got.restored_incidents) == (
        timedelta(hours=3),
        2,
    )
    assert got.time_to_restore_band == ms.DORA_BAND_HIGH
