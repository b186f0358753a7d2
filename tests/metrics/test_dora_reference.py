"""GetDoraMetrics against an independent reference on a generated 95-day history.

The reference (tests/metrics/dora_reference.py) imports none of the service's
DORA code. Windows start on Mondays, Thursdays, Sundays and at noon, last a
day, a week, ten days, a month or the whole history, and end before
incidents their deployments caused; both band readings and the Four Keys
method are compared field by field.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from tests.helpers import ts
from tests.metrics import dora_reference as ref
from tests.metrics.helpers import Metrics

BANDS = {
    ms.DORA_BAND_UNSPECIFIED: None,
    ms.DORA_BAND_ELITE: "elite",
    ms.DORA_BAND_HIGH: "high",
    ms.DORA_BAND_MEDIUM: "medium",
    ms.DORA_BAND_LOW: "low",
}
# (offset from the history's first day, length): Monday, Thursday, Sunday, noon.
READINGS = ((2023, ms.DORA_THRESHOLDS_2023), (2021, ms.DORA_THRESHOLDS_2021))
WINDOWS = [
    (timedelta(days=0), timedelta(days=95)),
    (timedelta(days=0), timedelta(days=28)),
    (timedelta(days=3), timedelta(days=7)),
    (timedelta(days=6), timedelta(days=7)),
    (timedelta(days=10, hours=12), timedelta(days=10)),
    (timedelta(days=31), timedelta(days=30)),
    (timedelta(days=45), timedelta(days=1)),
    (timedelta(days=50), timedelta(days=14)),
    (timedelta(days=60), timedelta(days=35)),
]


def _duration(d: object) -> timedelta | None:
    return d.ToTimedelta() if d.ByteSize() else None  # type: ignore[attr-defined]


async def _load(metrics: Metrics, project: str, history: ref.History) -> None:
    events = ref.events(project, history)
    for i in range(0, len(events), 500):
        response = await metrics.RecordMetrics(
            ms.RecordMetricsRequest(batch=mp.MetricBatch(events=events[i : i + 500]))
        )
        assert list(response.rejected) == []


def test_the_history_has_every_edge() -> None:
    h = ref.generate()
    statuses = {d.status for d in h.deps if d.env == "production"}
    assert statuses == {"succeeded", "rolled_back", "failed"}
    assert any(d.env == "staging" for d in h.deps)
    assert any(d.id.startswith("R") for d in h.deps)  # redeploys
    assert any(i.cause for i in h.incs)
    assert any(not i.cause for i in h.incs)
    assert any(i.resolved is None for i in h.incs)
    # A deployment of the first 28 days caused an incident opened after them.
    month = ref.BEGIN + timedelta(days=28)
    causes = {d.id: d for d in h.deps}
    assert any(i.cause and causes[i.cause].time < month <= i.opened for i in h.incs)
    assert any(i.env == "staging" for i in h.incs)
    assert h.prs
    shipped = {s for d in h.deps for s in d.shas}
    assert shipped - set(h.commits)  # commits the server never heard of


async def test_this_services_definitions_match_the_reference(
    metrics: Metrics, project: str
) -> None:
    history = ref.generate()
    await _load(metrics, project, history)
    compared = 0
    for offset, length in WINDOWS:
        start = ref.BEGIN + offset
        end = start + length
        for report, thresholds in (
            (2023, ms.DORA_THRESHOLDS_2023),
            (2021, ms.DORA_THRESHOLDS_2021),
        ):
            got = await metrics.GetDoraMetrics(
                ms.GetDoraMetricsRequest(
                    project_id=project, start_time=ts(start), end_time=ts(end),
                    thresholds=thresholds,
                )
            )  # fmt: skip
            want = ref.reference(history, start, end, report)
            found: dict[str, object] = {
                "deployments": got.deployments,
                "deployment_days": got.deployment_days,
                "days_per_week": got.deployment_days_per_week,
                "frequency": BANDS[got.deployment_frequency_band],
                "lead": _duration(got.median_lead_time),
                "lead_changes": got.lead_time_changes,
                "lead_band": BANDS[got.lead_time_band],
                "failed": got.failed_deployments,
                "rate_band": BANDS[got.change_failure_rate_band],
                "recovery": _duration(got.median_time_to_restore),
                "restored": got.restored_incidents,
                "recovery_band": BANDS[got.time_to_restore_band],
            }
            assert got.change_failure_rate == pytest.approx(want["rate"])
            found["rate"] = want["rate"]  # compared approximately above
            assert found == want, (start, end, report)
            compared += 1
    assert compared == 2 * len(WINDOWS)


async def test_the_four_keys_method_matches_its_queries(metrics: Metrics, project: str) -> None:
    history = ref.generate()
    await _load(metrics, project, history)
    for offset, length in WINDOWS:
        start = ref.BEGIN + offset
        end = start + length
        got = await metrics.GetDoraMetrics(
            ms.GetDoraMetricsRequest(
                project_id=project, start_time=ts(start), end_time=ts(end),
                method=ms.DORA_METHOD_FOUR_KEYS,
            )
        )  # fmt: skip
        want = ref.four_keys_reference(history, start, end)
        found: dict[str, object] = {
            "deployments": got.deployments,
            "days_per_week": got.deployment_days_per_week,
            "frequency": got.four_keys.deployment_frequency,
            "lead": _duration(got.median_lead_time),
            "lead_pairs": got.lead_time_changes,
            "lead_bucket": got.four_keys.lead_time,
            "rate": want["rate"],
            "failed": got.failed_deployments,
            "rate_bucket": got.four_keys.change_failure_rate,
            "restore": _duration(got.median_time_to_restore),
            "restore_bucket": got.four_keys.time_to_restore,
            "restored": got.restored_incidents,
        }
        assert got.change_failure_rate == pytest.approx(want["rate"])
        assert found == want, (start, end)
        if got.four_keys.deployment_frequency:
            frequency = ref.FK_FREQUENCY[got.four_keys.deployment_frequency]
            assert BANDS[got.deployment_frequency_band] == frequency
