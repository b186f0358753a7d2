"""The four keys computed the way Google's Four Keys dashboard does (dora-team/fourkeys).

So that a team moving from Four Keys sees the numbers it knows. Each metric
follows the dashboard's badge query, on the request's window instead of
"the last three months", with the same records this service keeps:

- deployment frequency: the window's days grouped by week (BigQuery's
  TIMESTAMP_TRUNC(day, WEEK): weeks start on Sunday, partial weeks kept);
  "Daily" when the median (PERCENTILE_CONT) of deployment days per week is at
  least 3, "Weekly" when the median week had a deployment, "Monthly" when the
  median, over the weeks, of the weeks with a deployment in the week's month
  is at least 1, else "Yearly";
- lead time: every (deployment in the window, commit it shipped) pair with a
  known commit, deployment time minus author time in whole minutes, pairs of
  0 minutes or less ignored ("automated pushes"); the median; "One day"
  below 24 hours, then "One week", "One month" (730 hours), "Six months",
  "One year";
- change failure rate: over the (deployment, commit) pairs, the pairs whose
  commit an incident names, divided by the distinct known commits shipped.
  Four Keys links an incident to its root-cause commits; here an incident's
  commits are those of the deployment its caused_by_deployment_id names
  (Four Keys has no "last deployment before" rule, and does not count
  rollbacks); incidents of any time count, as in Four Keys. "0-15%", below
  46% "16-45%", else "46-60%";
- time to restore: incidents opened in the window and resolved, resolution
  minus opening in whole hours (not from the deployment); the median; the
  lead time's buckets.

Where Four Keys shows a bucket for no data (0 minutes: "One day"; no resolved
incident: "One year"), this says nothing (no label, no band). The bands map
Four Keys' buckets onto DORA levels: Daily elite, Weekly high, Monthly medium,
Yearly low; lead time One day elite, One week high, One month medium,
longer low; failure 0-15% elite, 16-45% medium, 46-60% low; restore One
day high (Four Keys does not tell under an hour), One week medium, longer
low.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

from maestro_grpc.metrics.domain.dora import (
    DEPLOYED,
    Band,
    Deploy,
    DoraResult,
    FourKeysLabels,
    Incident,
    window_days,
)

HOUR_BUCKETS = ((24, "One day"), (168, "One week"), (730, "One month"), (730 * 6, "Six months"))
BUCKET_BANDS = {
    "Daily": Band.ELITE,
    "Weekly": Band.HIGH,
    "Monthly": Band.MEDIUM,
    "Yearly": Band.LOW,
    "0-15%": Band.ELITE,
    "16-45%": Band.MEDIUM,
    "46-60%": Band.LOW,
}
LEAD_BANDS = {"One day": Band.ELITE, "One week": Band.HIGH, "One month": Band.MEDIUM}
RESTORE_BANDS = {"One day": Band.HIGH, "One week": Band.MEDIUM}


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _hours_bucket(hours: float) -> str:
    for limit, name in HOUR_BUCKETS:
        if hours < limit:
            return name
    return "One year"


def _sunday(day: date) -> date:
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _whole(delta: timedelta, unit: timedelta) -> int:
    """BigQuery's TIMESTAMP_DIFF: whole units, toward zero."""
    return int(delta / unit)


def frequency(deployed_days: set[date], start: datetime, end: datetime) -> tuple[float, str]:
    """(median deployment days per week, Four Keys' frequency bucket)."""
    weeks: dict[date, list[date]] = defaultdict(list)
    for day in window_days(start, end):
        weeks[_sunday(day)].append(day)
    days_deployed = {w: sum(d in deployed_days for d in days) for w, days in weeks.items()}
    week_deployed = {w: 1 if n else 0 for w, n in days_deployed.items()}
    per_month: dict[tuple[int, int], int] = defaultdict(int)
    for week, flag in week_deployed.items():
        per_month[(week.year, week.month)] += flag
    monthly = [per_month[(w.year, w.month)] for w in weeks]
    days_median = _median(list(days_deployed.values())) or 0.0
    if days_median >= 3:
        return days_median, "Daily"
    if (_median(list(week_deployed.values())) or 0.0) >= 1:
        return days_median, "Weekly"
    if (_median(monthly) or 0.0) >= 1:
        return days_median, "Monthly"
    return days_median, "Yearly"


def _lead_minutes(in_window: Sequence[Deploy], commit_times: Mapping[str, datetime]) -> list[int]:
    minutes = []
    for deployment in in_window:
        for sha in deployment.commit_shas:
            if sha in commit_times:
                lead = _whole(deployment.time - commit_times[sha], timedelta(minutes=1))
                if lead > 0:
                    minutes.append(lead)
    return minutes


def _failure(
    in_window: Sequence[Deploy],
    production: Sequence[Deploy],
    incidents: Sequence[Incident],
    commit_times: Mapping[str, datetime],
) -> tuple[float | None, int]:
    """(the failure ratio, or None without known commits; deployments with a named commit)."""
    by_id = {d.deployment_id: d for d in production}
    named: dict[str, int] = defaultdict(int)  # commit -> incidents naming it
    for incident in incidents:
        cause = by_id.get(incident.caused_by) if incident.caused_by else None
        for sha in set(cause.commit_shas) if cause else ():
            named[sha] += 1
    matched = sum(named[sha] for d in in_window for sha in d.commit_shas)
    failed = sum(1 for d in in_window if any(named[sha] for sha in d.commit_shas))
    known = {sha for d in in_window for sha in d.commit_shas if sha in commit_times}
    return (matched / len(known) if known else None), failed


def _failure_bucket(rate: float) -> str:
    if rate <= 0.15:
        return "0-15%"
    return "16-45%" if rate < 0.46 else "46-60%"


def four_keys(
    *,
    start: datetime,
    end: datetime,
    environment: str,
    deployments: Sequence[Deploy],
    incidents: Sequence[Incident],
    commit_times: Mapping[str, datetime],
) -> DoraResult:
    """The four keys of [start, end) as Four Keys computes them (module docstring)."""
    env = environment.lower()
    production = [d for d in deployments if d.environment.lower() == env and d.status in DEPLOYED]
    in_window = [d for d in production if start <= d.time < end]
    deployed_days = {d.time.astimezone(UTC).date() for d in in_window}
    days_per_week, frequency_bucket = frequency(deployed_days, start, end)
    production_incidents = [i for i in incidents if i.environment.lower() == env]
    leads = _lead_minutes(in_window, commit_times)
    median_lead = _median(leads)
    rate, failed = _failure(in_window, production, production_incidents, commit_times)
    restores = [
        _whole(i.resolve_time - i.open_time, timedelta(hours=1))
        for i in production_incidents
        if start <= i.open_time < end and i.resolve_time is not None
    ]
    median_restore = _median(restores)
    labels = FourKeysLabels(
        deployment_frequency=frequency_bucket if in_window else "",
        lead_time="" if median_lead is None else _hours_bucket(median_lead / 60),
        change_failure_rate="" if rate is None else _failure_bucket(rate),
        time_to_restore="" if median_restore is None else _hours_bucket(median_restore),
    )
    return DoraResult(
        deployments=len(in_window),
        deployment_days=len(deployed_days),
        deployment_days_per_week=days_per_week,
        deployment_frequency_band=BUCKET_BANDS.get(labels.deployment_frequency),
        median_lead_time=None if median_lead is None else timedelta(minutes=median_lead),
        lead_time_changes=len(leads),
        lead_time_band=LEAD_BANDS.get(labels.lead_time, Band.LOW) if labels.lead_time else None,
        change_failure_rate=rate or 0.0,
        failed_deployments=failed,
        change_failure_rate_band=BUCKET_BANDS.get(labels.change_failure_rate),
        median_time_to_restore=None if median_restore is None else timedelta(hours=median_restore),
        restored_incidents=len(restores),
        time_to_restore_band=(
            RESTORE_BANDS.get(labels.time_to_restore, Band.LOW) if labels.time_to_restore else None
        ),
        four_keys=labels,
    )
