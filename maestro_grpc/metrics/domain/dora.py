"""The four DORA metrics and their bands, as plain functions over plain records.

Definitions (as DevLake computes them from the DORA reports):

- A deployment counts when it reached the production environment: status
  succeeded, or rolled back (it was deployed, then undone). One deployment
  of many commits counts once (deployments are unique by id).
- Deployment frequency: per calendar week (Monday, UTC) of the window, the
  days with at least one deployment; the band looks at the median week (and,
  below one day a week, at the median calendar month: deployed or not).
- Lead time for changes: a change is a pull request (its commits and merge
  commit), or a commit outside any known pull request. It starts at the
  pull request's first commit (or the commit's author time) and ends at the
  first production deployment that ships any of its commits; the median over
  the changes whose deployment is in the window.
- Change failure rate: deployments in the window that caused an incident
  (named by the incident's caused_by_deployment_id, or else the last
  production deployment at or before the incident's start) or were rolled
  back, over all deployments in the window.
- Failed deployment recovery time: for incidents opened in the window and
  resolved, resolution minus the causing deployment's time; the median.
  An incident with no deployment before it is not counted.
"""

from __future__ import annotations

import bisect
import enum
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


class Band(enum.Enum):
    ELITE = "elite"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True)
class Thresholds:
    """One report's band limits."""

    elite_days_per_week: float
    high_days_per_week: float
    elite_lead_time: timedelta
    high_lead_time: timedelta
    medium_lead_time: timedelta
    elite_failure_rate: float
    high_failure_rate: float
    medium_failure_rate: float
    elite_recovery: timedelta
    high_recovery: timedelta
    medium_recovery: timedelta


THRESHOLDS = {
    2023: Thresholds(
        elite_days_per_week=5,
        high_days_per_week=1,
        elite_lead_time=timedelta(days=1),
        high_lead_time=timedelta(weeks=1),
        medium_lead_time=timedelta(days=30),
        elite_failure_rate=0.05,
        high_failure_rate=0.10,
        medium_failure_rate=0.15,
        elite_recovery=timedelta(hours=1),
        high_recovery=timedelta(days=1),
        medium_recovery=timedelta(weeks=1),
    ),
    2021: Thresholds(
        elite_days_per_week=3,
        high_days_per_week=1,
        elite_lead_time=timedelta(hours=1),
        high_lead_time=timedelta(weeks=1),
        medium_lead_time=timedelta(days=180),
        elite_failure_rate=0.15,
        high_failure_rate=0.20,
        medium_failure_rate=0.30,
        elite_recovery=timedelta(hours=1),
        high_recovery=timedelta(days=1),
        medium_recovery=timedelta(weeks=1),
    ),
}

DEPLOYED = frozenset({"succeeded", "rolled_back"})


@dataclass(frozen=True)
class Deploy:
    deployment_id: str
    environment: str
    status: str
    time: datetime
    commit_shas: tuple[str, ...] = ()


@dataclass(frozen=True)
class Incident:
    incident_id: str
    environment: str
    open_time: datetime
    resolve_time: datetime | None
    caused_by: str = ""


@dataclass(frozen=True)
class Change:
    """A pull request or a lone commit: its shas and when its first commit was made."""

    key: str
    shas: tuple[str, ...]
    start: datetime


@dataclass(frozen=True)
class DoraResult:
    deployments: int
    deployment_days: int
    deployment_days_per_week: float
    deployment_frequency_band: Band
    median_lead_time: timedelta | None
    lead_time_changes: int
    lead_time_band: Band | None
    change_failure_rate: float
    failed_deployments: int
    change_failure_rate_band: Band | None
    median_time_to_restore: timedelta | None
    restored_incidents: int
    time_to_restore_band: Band | None


def _lower_median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2] if ordered else 0.0


def _weeks(start: datetime, end: datetime) -> list[date]:
    first = start.date() - timedelta(days=start.weekday())
    last_day = (end - timedelta(microseconds=1)).date()
    weeks = []
    week = first
    while week <= last_day:
        weeks.append(week)
        week += timedelta(weeks=1)
    return weeks


def _months(start: datetime, end: datetime) -> list[tuple[int, int]]:
    last_day = (end - timedelta(microseconds=1)).date()
    year, month = start.year, start.month
    months = []
    while (year, month) <= (last_day.year, last_day.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def frequency_band(days_per_week: float, months_deployed: float, t: Thresholds) -> Band:
    if days_per_week >= t.elite_days_per_week:
        return Band.ELITE
    if days_per_week >= t.high_days_per_week:
        return Band.HIGH
    if months_deployed >= 1:
        return Band.MEDIUM
    return Band.LOW


def lead_time_band(lead: timedelta, t: Thresholds) -> Band:
    if lead < t.elite_lead_time:
        return Band.ELITE
    if lead < t.high_lead_time:
        return Band.HIGH
    if lead < t.medium_lead_time:
        return Band.MEDIUM
    return Band.LOW


def failure_rate_band(rate: float, t: Thresholds) -> Band:
    if rate <= t.elite_failure_rate:
        return Band.ELITE
    if rate <= t.high_failure_rate:
        return Band.HIGH
    if rate <= t.medium_failure_rate:
        return Band.MEDIUM
    return Band.LOW


def recovery_band(recovery: timedelta, t: Thresholds) -> Band:
    if recovery < t.elite_recovery:
        return Band.ELITE
    if recovery < t.high_recovery:
        return Band.HIGH
    if recovery < t.medium_recovery:
        return Band.MEDIUM
    return Band.LOW


def _median_duration(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    seconds = statistics.median(v.total_seconds() for v in values)
    return timedelta(seconds=seconds)


def dora(
    *,
    start: datetime,
    end: datetime,
    environment: str,
    deployments: Sequence[Deploy],
    incidents: Sequence[Incident],
    changes: Sequence[Change],
    thresholds: int = 2023,
) -> DoraResult:
    """The DORA metrics of [start, end) (see the module docstring for the rules)."""
    t = THRESHOLDS[thresholds]
    env = environment.lower()
    production = sorted(
        (d for d in deployments if d.environment.lower() == env and d.status in DEPLOYED),
        key=lambda d: (d.time, d.deployment_id),
    )
    in_window = [d for d in production if start <= d.time < end]
    days, days_per_week, months_deployed = _frequency(in_window, start, end)
    leads = _lead_times(production, changes, start, end)
    median_lead = _median_duration(leads)
    failed, recoveries = _failures(production, in_window, incidents, env, start, end)
    rate = len(failed) / len(in_window) if in_window else 0.0
    median_recovery = _median_duration(recoveries)
    return DoraResult(
        deployments=len(in_window),
        deployment_days=days,
        deployment_days_per_week=float(days_per_week),
        deployment_frequency_band=frequency_band(days_per_week, months_deployed, t),
        median_lead_time=median_lead,
        lead_time_changes=len(leads),
        lead_time_band=None if median_lead is None else lead_time_band(median_lead, t),
        change_failure_rate=rate,
        failed_deployments=len(failed),
        change_failure_rate_band=failure_rate_band(rate, t) if in_window else None,
        median_time_to_restore=median_recovery,
        restored_incidents=len(recoveries),
        time_to_restore_band=None if median_recovery is None else recovery_band(median_recovery, t),
    )


def _frequency(
    in_window: Sequence[Deploy], start: datetime, end: datetime
) -> tuple[int, float, float]:
    """Deployment days, the median week's deployment days, the median month's (0 or 1)."""
    days = {d.time.astimezone(UTC).date() for d in in_window}
    per_week: dict[date, int] = {w: 0 for w in _weeks(start, end)}
    for day in days:
        week = day - timedelta(days=day.weekday())
        if week in per_week:
            per_week[week] += 1
    deployed_months = {(d.year, d.month) for d in days}
    months = _months(start, end)
    days_per_week = _lower_median(list(per_week.values()))
    months_deployed = _lower_median([1.0 if m in deployed_months else 0.0 for m in months])
    return len(days), days_per_week, months_deployed


def _lead_times(
    production: Sequence[Deploy], changes: Sequence[Change], start: datetime, end: datetime
) -> list[timedelta]:
    """Each change to the first production deployment shipping it (deployed in the window)."""
    first_deploy: dict[str, Deploy] = {}
    for deployment in production:
        for sha in deployment.commit_shas:
            first_deploy.setdefault(sha, deployment)
    leads = []
    for change in changes:
        shipped = [first_deploy[s] for s in change.shas if s in first_deploy]
        if not shipped:
            continue
        deployed = min(shipped, key=lambda d: d.time)
        if start <= deployed.time < end:
            leads.append(max(deployed.time - change.start, timedelta(0)))
    return leads


def _failures(
    production: Sequence[Deploy],
    in_window: Sequence[Deploy],
    incidents: Sequence[Incident],
    env: str,
    start: datetime,
    end: datetime,
) -> tuple[set[str], list[timedelta]]:
    """The failed deployments of the window, and the recovery times of its incidents."""
    by_id = {d.deployment_id: d for d in production}
    times = [d.time for d in production]
    failed: set[str] = {d.deployment_id for d in in_window if d.status == "rolled_back"}
    recoveries = []
    for incident in incidents:
        if incident.environment.lower() != env:
            continue
        cause = by_id.get(incident.caused_by) if incident.caused_by else None
        if cause is None and not incident.caused_by:
            at = bisect.bisect_right(times, incident.open_time)
            cause = production[at - 1] if at else None
        if cause is None:
            continue
        if start <= cause.time < end:
            failed.add(cause.deployment_id)
        if start <= incident.open_time < end and incident.resolve_time is not None:
            recoveries.append(max(incident.resolve_time - cause.time, timedelta(0)))
    return failed, recoveries
