"""Velocity as plain functions: events counted in day or week buckets, and each series' trend.

Buckets are UTC days or ISO weeks (Monday 00:00 UTC); the first bucket is
the one holding the window's start, the last the one holding its end, empty
ones included. What each series counts: commits by author time, pull
requests by merge time (merged ones), pipeline runs by start time,
deployments that reached their environment (succeeded or later rolled
back) by deploy time; only times inside the window count. The trend is the
least-squares slope in counts per bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from maestro_grpc.metrics.domain.stats import slope

SERIES = ("commits", "merged_pull_requests", "pipeline_runs", "deployments")
MAX_BUCKETS = 2000


@dataclass(frozen=True)
class VelocityBucket:
    start: datetime
    commits: int = 0
    merged_pull_requests: int = 0
    pipeline_runs: int = 0
    deployments: int = 0


@dataclass(frozen=True)
class Velocity:
    buckets: list[VelocityBucket]
    trend: dict[str, float]


def bucket_start(value: datetime, weekly: bool) -> datetime:
    day = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if weekly:
        return day - timedelta(days=day.weekday())
    return day


def bucket_starts(start: datetime, end: datetime, weekly: bool) -> list[datetime]:
    step = timedelta(weeks=1) if weekly else timedelta(days=1)
    first = bucket_start(start.astimezone(UTC), weekly)
    last = bucket_start((end - timedelta(microseconds=1)).astimezone(UTC), weekly)
    out = []
    t = first
    while t <= last:
        out.append(t)
        t += step
    return out


def velocity(
    start: datetime,
    end: datetime,
    weekly: bool,
    events: Sequence[tuple[str, datetime]],
) -> Velocity:
    """Count (series, time) pairs into buckets of [start, end) and fit each series' trend."""
    starts = bucket_starts(start, end, weekly)
    index = {s: i for i, s in enumerate(starts)}
    counts = {name: [0] * len(starts) for name in SERIES}
    for series, when in events:
        if not start <= when < end:
            continue
        i = index.get(bucket_start(when.astimezone(UTC), weekly))
        if i is not None:
            counts[series][i] += 1
    buckets = [
        VelocityBucket(
            start=s,
            commits=counts["commits"][i],
            merged_pull_requests=counts["merged_pull_requests"][i],
            pipeline_runs=counts["pipeline_runs"][i],
            deployments=counts["deployments"][i],
        )
        for i, s in enumerate(starts)
    ]
    return Velocity(buckets, {name: slope(counts[name]) for name in SERIES})
