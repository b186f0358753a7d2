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

from maestro_grpc.clock import to_micros
from maestro_grpc.metrics.domain.rollup import hourly, row_moments
from maestro_grpc.metrics.domain.sketch import Sketch
from maestro_grpc.metrics.domain.stats import Moments
from maestro_grpc.metrics.domain.windows import DAY_US, HOUR_US
from maestro_grpc.metrics.model import (
    PERCENTILES,
    RawSummary,
    RollupInputs,
    SeriesLabels,
    SummaryQuery,
)
from maestro_grpc.metrics.store.summaries import Plan, SummaryStore

MAX_RAW_RANGES = 200

# A part of a summary: its series, moments, and sketch (maybe still serialized).
Part = tuple[int, Moments, "Sketch | bytes"]


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
    # Sketching raw points and merging many sketches is CPU work: off the loop.
    return await asyncio.to_thread(_merge, inputs, query.group_by_label)


def _merge(inputs: RollupInputs, group_by_label: str) -> list[Summary]:
    # Stored rollups keep their sketches serialized until their group
    # decodes them all at once; raw points are rolled up on the fly.
    parts: list[Part] = [(r.series_id, row_moments(r), r.sketch) for r in inputs.rollups]
    for sids, times, values in inputs.raw_points:
        # One "bucket" per series for the whole range: a rollup on the fly.
        for h in hourly(sids, times, values, bucket_us=1 << 62, granularity="raw"):
            parts.append((h.series_id, h.moments, h.sketch))
    return _merge_groups(parts, inputs.series, group_by_label)


def _merge_groups(
    parts: list[Part], series: dict[int, SeriesLabels], group_by_label: str
) -> list[Summary]:
    """Per (name, label value): moments and sketches of every part, merged."""
    grouped: dict[tuple[str, str], list[Part]] = {}
    for part in parts:
        info = series.get(part[0])
        if info is None:
            continue
        key = (
            info.name,
            info.labels.get(group_by_label, "") if group_by_label else "",
        )
        grouped.setdefault(key, []).append(part)
    groups: dict[tuple[str, str], tuple[Moments, Sketch]] = {}
    for key, members in grouped.items():
        moments = members[0][1]
        for member in members[1:]:
            moments = moments.merged(member[1])
        # All of a group's sketches at once: one pass over their buckets.
        stored = [m[2] for m in members if isinstance(m[2], bytes)]
        sketches = [m[2] for m in members if isinstance(m[2], Sketch)]
        if stored:
            sketches.append(Sketch.merged_bytes(stored))
        groups[key] = (moments, Sketch.merged(sketches))
    out = []
    for (name, value), (moments, sketch) in sorted(groups.items()):
        qs = sketch.quantiles(list(PERCENTILES), moments.min, moments.max)
        out.append(
            Summary(
                name=name,
                group_value=value,
                moments=moments,
                percentiles=(qs[0], qs[1], qs[2], qs[3]),
                from_rollups=True,
            )
        )
    return out
