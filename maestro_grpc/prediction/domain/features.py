"""The meta-model's features: the same functions for training, prediction and team search.

A project is observed over a window measured from its start (its start_time,
or its create_time when that is not set): [start, start + observation_days).
Nothing at or after the window's end is read, and while the window is still
open (a running project) nothing after the prediction time either (`window.py`). The same
functions compute the features of the finished projects a model learns from
and of the project it is asked about, so the two can never drift apart.

Features are a flat mapping of name to value, None meaning *missing*
(unknown, as opposed to a real zero); the model replaces a missing value by
its training median and adds a missing indicator (see `estimator.py`). The
families:

- team.*: composition at the window's end (`teamfeatures.py`): size,
  members and share per role, mean and max years of experience, total
  allocation, coverage of the project's required skills, turnover.
- artifacts.*: reuse within the window: artifacts used, their mean impact
  score as it stood at the window's end (the registry's impact formula over
  the usages made before it, with the outcomes recorded before it), how many
  were reused (made by another project) and created (by this one), and the
  created share.
- metric.<name>.<aggregate>: for every metric name, over the points in the
  window: count, mean, median, min, last, slope (least squares, per day)
  and recent_mean (mean over the window's second half): the level (mean,
  median; the median is not swayed by a one-off bulk import), the floor
  (min: idle periods), the end state (last, recent_mean) and the trend. A
  name never seen before becomes a feature without code changes.
- event.<type>.<aggregate>: for every event type, over weekly counts: count
  (total), mean (events per week), last (events in the final 7 days), slope
  (of the weekly counts, per week) and recent_mean (events per week in the
  window's second half). Missing when the project has no events at all.
- dora.* and velocity.*: deployment frequency, change failure rate, lead
  time and time to restore (DORA), and merged pull requests per week, where
  the events they need exist. An event's later state is read only as far as
  the window allows: a pull request merged after the window's end counts as
  open, an incident resolved after it as unresolved.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from maestro_grpc.metrics.model import EventRecord
from maestro_grpc.prediction.domain.teamfeatures import team_features
from maestro_grpc.prediction.domain.window import (
    DAY_SECONDS,
    Features,
    Observations,
    ProjectRecord,
    Window,
)

METRIC_AGGREGATES = ("count", "mean", "median", "min", "last", "slope", "recent_mean")
EVENT_AGGREGATES = ("count", "mean", "last", "slope", "recent_mean")
WEEK = timedelta(days=7)
PRODUCTION = {"production", "prod"}


def compute(project: ProjectRecord, window: Window, obs: Observations) -> Features:
    """All features of one project over its window (pure: the same input, the same output)."""
    out: Features = {}
    out.update(team_features(obs.members, project.required_skills, window))
    out.update(artifact_features(obs, window))
    out.update(metric_features(obs.points, window))
    out.update(event_features(obs.events, window))
    return out


def artifact_features(obs: Observations, window: Window) -> Features:
    used = len(obs.used_impacts)
    impacts = list(obs.used_impacts.values())
    both = obs.created + obs.reused
    return {
        "artifacts.used": float(used),
        "artifacts.impact.mean": sum(impacts) / used if used else None,
        "artifacts.reused": float(obs.reused),
        "artifacts.created": float(obs.created),
        "artifacts.created_share": obs.created / both if both else None,
    }


def _days(t: datetime, window: Window) -> float:
    return (t - window.start).total_seconds() / DAY_SECONDS


def _slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares slope of ys on xs; None with fewer than two distinct xs."""
    n = len(xs)
    if n < 2:
        return None
    mean_x = math.fsum(xs) / n
    mean_y = math.fsum(ys) / n
    sxx = math.fsum((x - mean_x) ** 2 for x in xs)
    if sxx <= 0.0:
        return None
    sxy = math.fsum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    return sxy / sxx


def metric_features(points: Iterable[tuple[str, datetime, float]], window: Window) -> Features:
    """METRIC_AGGREGATES of every metric name over the window."""
    series: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for name, time, value in points:
        if window.start <= time < window.observed_end:
            series[name].append((time, value))
    out: Features = {}
    middle = window.middle
    for name in sorted(series):
        rows = series[name]
        values = [v for _, v in rows]
        recent = [v for t, v in rows if t >= middle]
        prefix = f"metric.{name}."
        out[prefix + "count"] = float(len(values))
        out[prefix + "mean"] = math.fsum(values) / len(values)
        out[prefix + "median"] = float(median(values))
        out[prefix + "min"] = min(values)
        out[prefix + "last"] = values[-1]
        out[prefix + "slope"] = _slope([_days(t, window) for t, _ in rows], values)
        out[prefix + "recent_mean"] = math.fsum(recent) / len(recent) if recent else None
    return out


def _time(payload: Mapping[str, Any], key: str) -> datetime | None:
    raw = payload.get(key)
    if not raw or not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


def event_features(events: Sequence[EventRecord], window: Window) -> Features:
    """Generic weekly aggregates per event type, then DORA and velocity."""
    inside = [e for e in events if window.start <= e.time < window.observed_end]
    if not inside:
        return {}
    weeks = max(window.observed_days / 7.0, 1.0 / 7.0)
    n_buckets = max(math.ceil(window.observed_days / 7.0), 1)
    by_type: dict[str, list[EventRecord]] = defaultdict(list)
    for event in inside:
        by_type[event.type].append(event)
    out: Features = {}
    middle = window.middle
    recent_weeks = (window.observed_end - middle).total_seconds() / DAY_SECONDS / 7.0
    for kind in sorted(by_type):
        rows = by_type[kind]
        buckets = [0.0] * n_buckets
        for e in rows:
            index = min(int(_days(e.time, window) // 7), n_buckets - 1)
            buckets[index] += 1
        prefix = f"event.{kind}."
        out[prefix + "count"] = float(len(rows))
        out[prefix + "mean"] = len(rows) / weeks
        out[prefix + "last"] = float(sum(1 for e in rows if e.time >= window.observed_end - WEEK))
        out[prefix + "slope"] = _slope([float(i) for i in range(n_buckets)], buckets)
        recent = sum(1 for e in rows if e.time >= middle)
        out[prefix + "recent_mean"] = recent / recent_weeks if recent_weeks > 0 else None
    out.update(_dora(by_type, window, weeks))
    return out


def _dora(by_type: Mapping[str, list[EventRecord]], window: Window, weeks: float) -> Features:
    out: Features = {}
    cut = window.observed_end
    deployments = [
        e
        for e in by_type.get("deployment", [])
        if str(e.payload.get("environment", "")).lower() in PRODUCTION
        and e.payload.get("status") != "in_progress"
    ]
    incidents = by_type.get("incident", [])
    if by_type.get("deployment"):
        succeeded = [e for e in deployments if e.payload.get("status") == "succeeded"]
        out["dora.deployment_frequency_per_week"] = len(succeeded) / weeks
        causing = {str(e.payload.get("caused_by_deployment_id") or "") for e in incidents}
        failed = [
            e
            for e in deployments
            if e.payload.get("status") in {"failed", "rolled_back"}
            or str(e.payload.get("deployment_id", "")) in causing
        ]
        out["dora.change_failure_rate"] = len(failed) / len(deployments) if deployments else None
        authored = {str(e.payload.get("sha", "")): e.time for e in by_type.get("commit", [])}
        lead_hours = [
            (d.time - authored[sha]).total_seconds() / 3600.0
            for d in succeeded
            for sha in d.payload.get("commit_shas") or []
            if sha in authored and authored[sha] <= d.time
        ]
        out["dora.lead_time_hours"] = median(lead_hours) if lead_hours else None
    if incidents:
        restore = []
        for e in incidents:
            resolved = _time(e.payload, "resolve_time")
            if resolved is not None and resolved < cut and resolved >= e.time:
                restore.append((resolved - e.time).total_seconds() / 3600.0)
        out["dora.time_to_restore_hours"] = median(restore) if restore else None
    pulls = by_type.get("pull_request", [])
    if pulls:
        merged = 0
        for e in pulls:
            merge_time = _time(e.payload, "merge_time")
            if e.payload.get("state") == "merged" and merge_time is not None and merge_time < cut:
                merged += 1
        out["velocity.merged_prs_per_week"] = merged / weeks
    return out
