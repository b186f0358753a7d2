"""DORA: the plain function on the hand-worked fixture and band edges, then through gRPC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

import grpc
import pytest

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro_grpc.metrics.domain import dora
from maestro_grpc.metrics.domain.dora import THRESHOLDS, Band
from tests.helpers import expect_error, expect_invalid, ts
from tests.metrics import dora_fixture as fx
from tests.metrics.helpers import Metrics


def test_band_edges_2023_and_2021() -> None:
    t23, t21 = THRESHOLDS[2023], THRESHOLDS[2021]
    cases = [
        (dora.frequency_band(5, 1, t23), Band.ELITE),
        (dora.frequency_band(4, 1, t23), Band.HIGH),
        (dora.frequency_band(3, 1, t21), Band.ELITE),
        (dora.frequency_band(0, 1, t23), Band.MEDIUM),
        (dora.frequency_band(0, 0, t23), Band.LOW),
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


def test_no_data_is_low_frequency_and_unbanded_otherwise() -> None:
    result = dora.dora(
        start=fx.START,
        end=fx.END,
        environment="production",
        deployments=[],
        incidents=[],
        changes=[],
    )
    assert result.deployments == 0
    assert result.deployment_frequency_band == Band.LOW
    assert result.lead_time_band is None
    assert result.change_failure_rate_band is None
    assert result.time_to_restore_band is None


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
