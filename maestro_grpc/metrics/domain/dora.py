"""The four DORA metrics and their bands, as plain functions over plain records.

Definitions (this service's; `fourkeys.py` computes them the way Google's
Four Keys does):

- A deployment counts when it reached the production environment: status
  succeeded, or rolled back (it was deployed, then undone). One deployment
  of many commits counts once (deployments are unique by id).
- Deployment frequency: the window's days (UTC dates) are cut into whole
  weeks (7 days), months (30 days) and half-years (182 days) counted back
  from its last day; a shorter stretch left at its start is not a period,
  unless the window holds no whole one (then the window is the one period).
  Per period, the days with a deployment; the band compares the medians
  (interpolated, as Four Keys' PERCENTILE_CONT) with the thresholds' rules.
  So a 7-day window starting on a Thursday is one week, not two partial
  calendar weeks. No deployment in the window: no band.
- Lead time for changes: a change is a pull request (its commits and merge
  commit), or a commit outside any known pull request. It starts at the
  pull request's first commit (or the commit's author time) and ends at the
  first production deployment that ships any of its commits; the median over
  the changes whose deployment is in the window.
- Change failure rate: deployments in the window that failed, over all of
  them; a deployment failed when it caused an incident (named by the
  incident's caused_by_deployment_id, or else the last production deployment
  at or before the incident's start; the incident may open after the window
  ends) or was rolled back (DORA's "requires remediation").
- Failed deployment recovery time: for incidents opened in the window and
  resolved, resolution minus the causing deployment's time; the median.
  An incident with no deployment before it is not counted.

The thresholds are Apache DevLake's reading of the Accelerate State of
DevOps reports (its DORA dashboard's "2023 report" and "2021 report"
benchmarks, documented with each metric on devlake.apache.org, Metrics/
DeploymentFrequency, LeadTimeForChanges, CFR and MTTR): the reports' own
tables leave gaps and overlaps (2023: low and medium deployment frequency
are both "between once per week and once per month"; 2021: high, medium and
low change failure rates are all 16-30%), which DevLake closes as below.
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


PERIOD_DAYS = {"week": 7, "month": 30, "half_year": 182}


@dataclass(frozen=True)
class Thresholds:
    """One reading's band limits. Frequency rules: (period, minimum median
    deployment days per period) for elite, high and medium; below, low."""

    frequency: tuple[tuple[str, float], tuple[str, float], tuple[str, float]]
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
    # DevLake's "2023 report": deploying every day of the median week is on
    # demand (elite), at least one day a week high, one a month medium.
    2023: Thresholds(
        frequency=(("week", 7), ("week", 1), ("month", 1)),
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
    # DevLake's "2021 report": monthly is high (as the report says), once in
    # six months medium; failure rates 15% / 20% / 30%.
    2021: Thresholds(
        frequency=(("week", 7), ("month", 1), ("half_year", 1)),
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
class FourKeysLabels:
    """The buckets Four Keys' dashboard shows ("" when it has no data): `fourkeys.py`."""

    deployment_frequency: str
    lead_time: str
    change_failure_rate: str
    time_to_restore: str


@dataclass(frozen=True)
class DoraResult:
    deployments: int
    deployment_days: int
    deployment_days_per_week: float
    deployment_frequency_band: Band | None
    median_lead_time: timedelta | None
    lead_time_changes: int
    lead_time_band: Band | None
    change_failure_rate: float
    failed_deployments: int
    change_failure_rate_band: Band | None
    median_time_to_restore: timedelta | None
    restored_incidents: int
    time_to_restore_band: Band | None
    four_keys: FourKeysLabels | None = None  # set when computed the Four Keys way


def window_days(start: datetime, end: datetime) -> list[date]:
    """The UTC dates [start, end) touches."""
    first = start.astimezone(UTC).date()
    last = (end.astimezone(UTC) - timedelta(microseconds=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def periods(days: Sequence[date], length: int) -> list[list[date]]:
    """Whole periods of `length` days counted back from the last day (the
    stretch left at the start dropped), or all the days when none is whole."""
    if len(days) < length:
        return [list(days)] if days else []
    cut = len(days) % length
    return [list(days[i : i + length]) for i in range(cut, len(days), length)]


def median_days(deployed: set[date], days: Sequence[date], period: str) -> float:
    """The median (interpolated) of the days with a deployment per period."""
    counts = [sum(d in deployed for d in p) for p in periods(days, PERIOD_DAYS[period])]
    return float(statistics.median(counts)) if counts else 0.0


def frequency_band(medians: dict[str, float], t: Thresholds) -> Band:
    """The band of the per-period medians (period -> median deployment days)."""
    for band, (period, minimum) in zip(
        (Band.ELITE, Band.HIGH, Band.MEDIUM), t.frequency, strict=True
    ):
        if medians[period] >= minimum:
            return band
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
    deployed_days = {d.time.astimezone(UTC).date() for d in in_window}
    days = window_days(start, end)
    medians = {period: median_days(deployed_days, days, period) for period in PERIOD_DAYS}
    leads = _lead_times(production, changes, start, end)
    median_lead = _median_duration(leads)
    failed, recoveries = _failures(production, in_window, incidents, env, start, end)
    rate = len(failed) / len(in_window) if in_window else 0.0
    median_recovery = _median_duration(recoveries)
    return DoraResult(
        deployments=len(in_window),
        deployment_days=len(deployed_days),
        deployment_days_per_week=medians["week"],
        deployment_frequency_band=frequency_band(medians, t) if in_window else None,
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
