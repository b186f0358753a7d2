"""An independent reference for GetDoraMetrics, and a generated history to try it on.

Nothing here imports the service's DORA code: the reference is written from
the definitions the proto documents (this service's, and Four Keys' badge
queries), row by row, so that a shared mistake would have to be made twice.

The history: 95 days from Monday 5 January 2026, production and staging
deployments (some rolled back, some failed, redeploys of shipped commits),
merged pull requests and lone commits, incidents named and unnamed, opened
before, inside and after windows, resolved or not, in production and staging.
"""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from maestro.metrics.v1 import process_event_pb2 as pe
from tests.metrics.helpers import commit, deployment, incident, pull_request, sha

BEGIN = datetime(2026, 1, 5, tzinfo=UTC)
DAYS = 95


@dataclass
class Dep:
    id: str
    env: str
    status: str
    time: datetime
    shas: list[str]


@dataclass
class Inc:
    id: str
    env: str
    opened: datetime
    resolved: datetime | None
    cause: str


@dataclass
class PR:
    number: int
    shas: list[str]
    merge_sha: str
    first: datetime
    merged: datetime


@dataclass
class History:
    commits: dict[str, datetime] = field(default_factory=dict)  # stored commits only
    deps: list[Dep] = field(default_factory=list)
    incs: list[Inc] = field(default_factory=list)
    prs: list[PR] = field(default_factory=list)


def generate(seed: int = 16) -> History:
    rnd = random.Random(seed)
    h = History()
    pending: list[str] = []
    shipped: list[str] = []
    n = 0
    for day in range(DAYS):
        base = BEGIN + timedelta(days=day)
        for _ in range(rnd.choice([0, 1, 2, 3])):  # commits
            n += 1
            s = sha(n)
            at = base + timedelta(hours=rnd.randint(6, 20), minutes=rnd.randint(0, 59))
            if rnd.random() < 0.9:  # a few commits the server never heard of
                h.commits[s] = at
            pending.append(s)
        if len(pending) >= 2 and rnd.random() < 0.3:  # a PR of the last commits
            take = pending[-2:]
            n += 1
            merge = sha(n)
            merged_at = base + timedelta(hours=21)
            h.commits[merge] = merged_at
            pending.append(merge)
            first = min(h.commits.get(s, merged_at) for s in take)
            h.prs.append(PR(len(h.prs) + 1, take, merge, first, merged_at))
        if pending and rnd.random() < 0.45:  # a deployment (staging first, sometimes)
            at = base + timedelta(hours=22, minutes=rnd.randint(0, 50))
            if rnd.random() < 0.4:
                h.deps.append(Dep(f"S{day}", "staging", "succeeded", at - timedelta(hours=1),
                                  list(pending)))  # fmt: skip
            status = rnd.choices(["succeeded", "rolled_back", "failed"], [0.8, 0.1, 0.1])[0]
            h.deps.append(Dep(f"D{day}", "production", status, at, list(pending)))
            if status != "failed":
                shipped.extend(pending)
                pending = []
        if shipped and rnd.random() < 0.1:  # a redeploy of commits already shipped
            at = base + timedelta(hours=23, minutes=30)
            h.deps.append(Dep(f"R{day}", "production", "succeeded", at, rnd.sample(shipped, 2)))
        if rnd.random() < 0.12:  # an incident
            opened = base + timedelta(hours=rnd.randint(0, 23))
            resolved = (
                opened + timedelta(minutes=rnd.choice([20, 90, 300, 2000, 9000]))
                if rnd.random() < 0.8
                else None
            )
            production = [d for d in h.deps if d.env == "production" and d.time <= opened]
            cause = rnd.choice(production).id if production and rnd.random() < 0.5 else ""
            env = "staging" if rnd.random() < 0.15 else "production"
            h.incs.append(Inc(f"I{day}", env, opened, resolved, cause))
    _edges(h)
    return h


def _edges(h: History) -> None:
    """Incidents across the tested windows' ends: named by a deployment of the
    first 28 days but opened after them, unnamed just after a window, and open."""
    month = BEGIN + timedelta(days=28)
    last = [d for d in h.deps if d.env == "production" and d.status != "failed" and d.time < month]
    h.incs.append(Inc("E1", "production", month + timedelta(days=2), month + timedelta(days=3),
                      last[-1].id))  # fmt: skip
    h.incs.append(Inc("E2", "production", month + timedelta(hours=1), None, ""))
    h.incs.append(Inc("E3", "production", BEGIN + timedelta(days=61, hours=1), None, ""))


def events(project: str, h: History) -> list[pe.ProcessEvent]:
    statuses = {
        "succeeded": pe.DEPLOYMENT_STATUS_SUCCEEDED,
        "rolled_back": pe.DEPLOYMENT_STATUS_ROLLED_BACK,
        "failed": pe.DEPLOYMENT_STATUS_FAILED,
    }
    out = [commit(project, s, at) for s, at in h.commits.items()]
    for d in h.deps:
        out.append(deployment(project, d.id, d.time, d.shas, status=statuses[d.status],
                              environment=d.env))  # fmt: skip
    for i in h.incs:
        event = incident(project, i.id, i.opened, i.resolved, caused_by=i.cause)
        event.incident.environment = i.env
        out.append(event)
    for p in h.prs:
        out.append(
            pull_request(
                project, p.number, state=pe.PULL_REQUEST_STATE_MERGED, opened=p.first,
                merged=p.merged, first_commit=p.first, merge_sha=p.merge_sha, shas=tuple(p.shas),
            )
        )  # fmt: skip
    return out


# ---- this service's definitions, from the proto -------------------------------------

# DevLake's readings, as the proto's DoraThresholds states them.
FREQUENCY = {2023: [("week", 7), ("week", 1), ("month", 1)],
             2021: [("week", 7), ("month", 1), ("half_year", 1)]}  # fmt: skip
# Lead time in days: below each limit, elite, high, medium; else low.
LEAD: dict[int, list[float]] = {2023: [1, 7, 30], 2021: [1 / 24, 7, 180]}
FAILURE = {2023: [0.05, 0.10, 0.15], 2021: [0.15, 0.20, 0.30]}  # at most
RECOVERY = [1 / 24, 1, 7]  # days, both
LEVELS = ["elite", "high", "medium", "low"]
LENGTH = {"week": 7, "month": 30, "half_year": 182}
DAY = timedelta(days=1)


def _dates(start: datetime, end: datetime) -> list[date]:
    out, day = [], start.date()
    while datetime(day.year, day.month, day.day, tzinfo=UTC) < end:
        out.append(day)
        day += timedelta(days=1)
    return out


def _period_medians(deployed: set[date], start: datetime, end: datetime) -> dict[str, float]:
    dates = _dates(start, end)
    medians = {}
    for name, length in LENGTH.items():
        groups = []
        stop = len(dates)
        while stop - length >= 0:
            groups.append(dates[stop - length : stop])
            stop -= length
        if not groups:
            groups = [dates]
        medians[name] = statistics.median([len(set(g) & deployed) for g in groups])
    return medians


def _below(value: float, limits: list[float], inclusive: bool) -> str:
    for level, limit in zip(LEVELS, limits, strict=False):
        if (value <= limit) if inclusive else (value < limit):
            return level
    return "low"


def reference(h: History, start: datetime, end: datetime, report: int) -> dict[str, object]:
    prod = sorted(
        (d for d in h.deps if d.env == "production" and d.status != "failed"),
        key=lambda d: (d.time, d.id),
    )
    window = [d for d in prod if start <= d.time < end]
    deployed = {d.time.date() for d in window}
    medians = _period_medians(deployed, start, end)
    frequency = None
    if window:
        frequency = "low"
        for level, (period, minimum) in zip(LEVELS, FREQUENCY[report], strict=False):
            if medians[period] >= minimum:
                frequency = level
                break
    # Changes: merged PRs (merged within a year before the window's end) that
    # hold a commit shipped in the window, then the other shipped commits.
    shipped = {s for d in window for s in d.shas}
    changes: list[tuple[set[str], datetime]] = []
    covered: set[str] = set()
    for p in h.prs:
        shas = set(p.shas) | {p.merge_sha}
        if start - timedelta(days=365) <= p.merged < end and shas & shipped:
            changes.append((shas, p.first))
            covered |= shas
    changes += [({s}, h.commits[s]) for s in shipped - covered if s in h.commits]
    leads = []
    for shas, began in changes:
        first = next((d for d in prod if set(d.shas) & shas), None)
        if first is not None and start <= first.time < end:
            leads.append(max(first.time - began, timedelta(0)))
    failed = {d.id for d in window if d.status == "rolled_back"}
    recoveries = []
    for i in h.incs:
        if i.env != "production" or i.opened < start:
            continue
        if i.cause:
            cause = next((d for d in prod if d.id == i.cause), None)
        else:
            before = [d for d in prod if d.time <= i.opened]
            cause = before[-1] if before else None
        if cause is None:
            continue
        if start <= cause.time < end:
            failed.add(cause.id)
        if i.opened < end and i.resolved is not None:
            recoveries.append(max(i.resolved - cause.time, timedelta(0)))
    lead = _median_delta(leads)
    recovery = _median_delta(recoveries)
    rate = len(failed) / len(window) if window else 0.0
    return {
        "deployments": len(window),
        "deployment_days": len(deployed),
        "days_per_week": float(medians["week"]),
        "frequency": frequency,
        "lead": lead,
        "lead_changes": len(leads),
        "lead_band": None if lead is None else _below(lead / DAY, LEAD[report], False),
        "failed": len(failed),
        "rate": rate,
        "rate_band": _below(rate, FAILURE[report], True) if window else None,
        "recovery": recovery,
        "restored": len(recoveries),
        "recovery_band": None if recovery is None else _below(recovery / DAY, RECOVERY, False),
    }  # fmt: skip


def _median_delta(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


# ---- Four Keys' badge queries, row by row ---------------------------------------------

FK_FREQUENCY = {"Daily": "elite", "Weekly": "high", "Monthly": "medium", "Yearly": "low"}
FK_FAILURE = {"0-15%": "elite", "16-45%": "medium", "46-60%": "low"}


def _failure_bucket(rate: float) -> str:
    if rate <= 0.15:
        return "0-15%"
    return "16-45%" if rate < 0.46 else "46-60%"


def _hour_bucket(hours: float) -> str:
    for limit, name in (
        (24, "One day"),
        (168, "One week"),
        (730, "One month"),
        (4380, "Six months"),
    ):
        if hours < limit:
            return name
    return "One year"


def four_keys_reference(h: History, start: datetime, end: datetime) -> dict[str, object]:
    prod = [d for d in h.deps if d.env == "production" and d.status != "failed"]
    window = [d for d in prod if start <= d.time < end]
    deploy_days = {d.time.date() for d in window}
    # deployment frequency: rows per TIMESTAMP_TRUNC(day, WEEK) (Sunday)
    weeks: dict[date, list[date]] = defaultdict(list)
    for day in _dates(start, end):
        weeks[day - timedelta(days=(day.isoweekday() % 7))].append(day)
    rows = [(w, sum(d in deploy_days for d in ds)) for w, ds in weeks.items()]
    days_deployed = statistics.median([n for _, n in rows])
    week_flags = [(w, 1 if n else 0) for w, n in rows]
    monthly = [sum(f for w2, f in week_flags if (w2.year, w2.month) == (w.year, w.month))
               for w, _ in week_flags]  # fmt: skip
    if days_deployed >= 3:
        freq = "Daily"
    elif statistics.median([f for _, f in week_flags]) >= 1:
        freq = "Weekly"
    elif statistics.median(monthly) >= 1:
        freq = "Monthly"
    else:
        freq = "Yearly"
    # lead time: deployments x changes, minutes > 0
    minutes = []
    for d in window:
        for s in d.shas:
            if s in h.commits:
                diff = int((d.time - h.commits[s]).total_seconds() // 60)
                if diff > 0:
                    minutes.append(diff)
    lead = statistics.median(minutes) if minutes else None
    # change failure: SUM(incident rows) / COUNT(DISTINCT known change)
    by_id = {d.id: d for d in prod}
    incident_changes = [
        set(by_id[i.cause].shas) for i in h.incs
        if i.env == "production" and i.cause in by_id
    ]  # fmt: skip
    matched = sum(1 for d in window for s in d.shas for changes in incident_changes if s in changes)
    known = {s for d in window for s in d.shas if s in h.commits}
    rate = matched / len(known) if known else None
    failed = sum(1 for d in window if any(s in c for s in d.shas for c in incident_changes))
    hours = [
        int((i.resolved - i.opened).total_seconds() // 3600)
        for i in h.incs
        if i.env == "production" and start <= i.opened < end and i.resolved is not None
    ]
    restore = statistics.median(hours) if hours else None
    return {
        "deployments": len(window),
        "days_per_week": float(days_deployed),
        "frequency": freq if window else "",
        "lead": None if lead is None else timedelta(minutes=lead),
        "lead_pairs": len(minutes),
        "lead_bucket": "" if lead is None else _hour_bucket(lead / 60),
        "rate": rate or 0.0,
        "failed": failed,
        "rate_bucket": "" if rate is None else _failure_bucket(rate),
        "restore": None if restore is None else timedelta(hours=restore),
        "restore_bucket": "" if restore is None else _hour_bucket(restore),
        "restored": len(hours),
    }  # fmt: skip
