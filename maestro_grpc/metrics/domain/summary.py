"""GetMetricSummary's domain: exact summaries from raw points, or merged from rollups.

Raw (exact) when the window allows it (`store/summaries.py` computes them
on both stores). Windows longer than MAESTRO_METRICS_SUMMARY_RAW_MAX_DAYS,
or reaching back past the raw-point retention, merge daily and hourly
rollups instead, reading raw points only for the partial hours at the
edges and for hours whose rollup is not done yet; their percentiles come
from the merged sketch (1% relative error).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from maestro_grpc.clock import to_micros
from maestro_grpc.metrics.domain.rollup import hourly
from maestro_grpc.metrics.domain.sketch import Sketch
from maestro_grpc.metrics.domain.stats import Moments
from maestro_grpc.metrics.domain.windows import DAY_US, HOUR_US
from maestro_grpc.metrics.model import (
    PERCENTILES,
    RawSummary,
    SummaryQuery,
)
from maestro_grpc.metrics.store.summaries import Plan, RollupColumns, RollupInputs, SummaryStore

MAX_RAW_RANGES = 200
# A merge this small runs on the event loop (see rollup_summaries).
INLINE_RAW_POINTS = 10_000
INLINE_ROLLUPS = 2_000


@dataclass
class Summary:
    """One (name, label value) group's statistics, and whether rollups gave them."""

    name: str
    group_value: str
    moments: Moments
    percentiles: tuple[float, float, float, float]
    from_rollups: bool

    @classmethod
    def exact(cls, raw: RawSummary) -> Summary:
        return cls(
            name=raw.name,
            group_value=raw.group_value,
            moments=Moments(
                count=raw.count,
                mean=raw.mean,
                m2=raw.m2,
                min=raw.min,
                max=raw.max,
                first_time=raw.first_time,
                last_time=raw.last_time,
                last_value=raw.last_value,
            ),
            percentiles=raw.percentiles,
            from_rollups=False,
        )


async def summaries(
    store: SummaryStore,
    query: SummaryQuery,
    *,
    now: datetime,
    raw_max: timedelta,
    retention: timedelta | None,
) -> list[Summary]:
    """Exact from raw points when the window allows it, else from rollups."""
    start = query.start
    start_known = start if start is not None else await store.first_bucket(query.project_id)
    needs_rollups = retention is not None and (start is None or start < now - retention)
    long_window = start_known is not None and query.end - start_known > raw_max
    if (needs_rollups or long_window) and start_known is not None:
        return await rollup_summaries(store, query, start_known)
    return [Summary.exact(raw) for raw in await store.raw(query)]


def plan(start_us: int, end_us: int, dirty: Sequence[tuple[int, int]]) -> Plan:
    """Split [start, end) into clean whole days, clean whole hours, and raw ranges."""

    def is_dirty(lo: int, hi: int) -> bool:
        return any(a < hi and lo < b for a, b in dirty)

    days: list[int] = []
    hours: list[int] = []
    raw: list[tuple[int, int]] = []

    def add_raw(lo: int, hi: int) -> None:
        if lo >= hi:
            return
        if raw and raw[-1][1] == lo:
            raw[-1] = (raw[-1][0], hi)
        else:
            raw.append((lo, hi))

    first_hour = -(-start_us // HOUR_US) * HOUR_US
    last_hour = end_us - end_us % HOUR_US
    if first_hour >= last_hour:
        add_raw(start_us, end_us)
        return days, hours, raw
    add_raw(start_us, first_hour)
    t = first_hour
    while t < last_hour:
        if t % DAY_US == 0 and t + DAY_US <= last_hour and not is_dirty(t, t + DAY_US):
            days.append(t)
            t += DAY_US
            continue
        if is_dirty(t, t + HOUR_US):
            add_raw(t, t + HOUR_US)
        else:
            hours.append(t)
        t += HOUR_US
    add_raw(last_hour, end_us)
    return days, hours, raw


async def rollup_summaries(
    store: SummaryStore, query: SummaryQuery, start: datetime
) -> list[Summary]:
    """Summaries merged from rollups, with raw points for edges and unrolled hours."""
    start_us, end_us = to_micros(start), to_micros(query.end)

    def split(dirty: list[tuple[int, int]]) -> Plan:
        days, hours, raw = plan(start_us, end_us, dirty)
        if len(raw) > MAX_RAW_RANGES:
            return [], [], [(start_us, end_us)]
        return days, hours, raw

    inputs = await store.rollup_inputs(query, start_us, end_us, split)
    if inputs is None:
        return []
    # Sketching many raw points is CPU work: off the loop. Merging rollups
    # (a year of one series: ~1 ms) costs less than the hand-off to a thread
    # and back, which on a busy machine waits for a core twice.
    raw_points = sum(int(sids.shape[0]) for sids, _, _ in inputs.raw_points)
    if raw_points > INLINE_RAW_POINTS or len(inputs.rollups) > INLINE_ROLLUPS:
        return await asyncio.to_thread(_merge, inputs, query.group_by_label)
    return _merge(inputs, query.group_by_label)


def _merge(inputs: RollupInputs, group_by_label: str) -> list[Summary]:
    def key_of(series_id: int) -> tuple[str, str] | None:
        info = inputs.series.get(series_id)
        if info is None:
            return None
        return info.name, info.labels.get(group_by_label, "") if group_by_label else ""

    # Stored rollups keep their sketches serialized until their group
    # decodes them all at once, and merge their moments as columns; raw
    # points are rolled up on the fly.
    stored: dict[tuple[str, str], list[int]] = {}
    rollups = inputs.rollups
    if len(rollups):
        series_ids, inverse = np.unique(rollups.series_ids, return_inverse=True)
        for k, series_id in enumerate(series_ids.tolist()):
            key = key_of(series_id)
            if key is not None:
                stored.setdefault(key, []).extend(np.flatnonzero(inverse == k).tolist())
    raw: dict[tuple[str, str], list[tuple[Moments, Sketch]]] = {}
    for sids, times, values in inputs.raw_points:
        # One "bucket" per series for the whole range: a rollup on the fly.
        for h in hourly(sids, times, values, bucket_us=1 << 62, granularity="raw"):
            key = key_of(h.series_id)
            if key is not None:
                raw.setdefault(key, []).append((h.moments, h.sketch))
    out = []
    for key in sorted(stored.keys() | raw.keys()):
        parts = raw.get(key, [])
        sketches = [sketch for _, sketch in parts]
        moments: Moments | None = None
        if key in stored:
            moments = column_moments(rollups, stored[key])
            sketches.append(Sketch.merged_bytes([rollups.sketches[i] for i in stored[key]]))
        for part, _ in parts:
            moments = part if moments is None else moments.merged(part)
        assert moments is not None  # every key has a rollup or a raw part
        # All of a group's sketches at once: one pass over their buckets.
        sketch = Sketch.merged(sketches)
        qs = sketch.quantiles(list(PERCENTILES), moments.min, moments.max)
        out.append(
            Summary(
                name=key[0],
                group_value=key[1],
                moments=moments,
                percentiles=(qs[0], qs[1], qs[2], qs[3]),
                from_rollups=True,
            )
        )
    return out


def column_moments(rollups: RollupColumns, rows: list[int]) -> Moments:
    """The moments of some stored rollups, merged in one pass: the count-weighted
    mean, and m2 as each part's m2 plus its count times its mean's squared
    distance from the whole mean (what pairwise merges add up to)."""
    counts = rollups.counts[rows]
    sums = rollups.sums[rows]
    n = int(counts.sum())
    mean = float(sums.sum()) / n
    m2 = float(rollups.m2s[rows].sum() + (counts * (sums / counts - mean) ** 2).sum())
    # The latest point is the last; of two at the same time, the greater value.
    last_time, last_value = max((rollups.last_times[i], rollups.last_values[i]) for i in rows)
    return Moments(
        count=n,
        mean=mean,
        m2=m2,
        min=float(rollups.mins[rows].min()),
        max=float(rollups.maxs[rows].max()),
        first_time=min(rollups.first_times[i] for i in rows),
        last_time=last_time,
        last_value=last_value,
    )
