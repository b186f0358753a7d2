"""GetMetricSeries' shape: every point, or equal-width buckets when there are too many."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class SeriesPoint:
    """One value of GetMetricSeries: a point, or a bucket of points (time in microseconds)."""

    time_us: int
    value: float
    min: float
    max: float
    count: int


@dataclass(frozen=True)
class Series:
    """GetMetricSeries' answer: the values, and the bucket width (0 when not bucketed)."""

    points: list[SeriesPoint]
    width_us: int
    total: int


def series(
    times_us: npt.NDArray[np.int64], values: npt.NDArray[np.float64], max_points: int
) -> Series:
    """The points as they are when at most `max_points`; else at most `max_points` buckets
    of equal width from the first point's time, each with its count, mean, min and max
    (empty buckets left out). `times_us` is sorted."""
    total = len(times_us)
    if total <= max_points:
        points = [
            SeriesPoint(int(t), float(v), float(v), float(v), 1)
            for t, v in zip(times_us, values, strict=True)
        ]
        return Series(points=points, width_us=0, total=total)
    first = int(times_us[0])
    span = int(times_us[-1]) - first + 1
    width = -(-span // max_points)  # ceiling: the last point falls in the last bucket
    bucket = (times_us - first) // width
    # Sorted times give non-decreasing buckets: each run of one bucket is contiguous.
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    counts = np.diff(np.r_[starts, total])
    sums = np.add.reduceat(values, starts)
    lows = np.minimum.reduceat(values, starts)
    highs = np.maximum.reduceat(values, starts)
    points = [
        SeriesPoint(int(times_us[s]), float(total_ / n), float(lo), float(hi), int(n))
        for s, n, total_, lo, hi in zip(starts, counts, sums, lows, highs, strict=True)
    ]
    return Series(points=points, width_us=width, total=total)
