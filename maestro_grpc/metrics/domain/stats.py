"""Summary statistics as plain functions: exact percentiles, and moments that merge.

`percentile_cont` is PostgreSQL's definition (linear interpolation between
the closest ranks, rank q * (n - 1)); both stores' summaries compute exactly
this. `Moments` carries what rollups keep (count, mean, the sum of squared
deviations m2, min, max, first and last) and merges two of them exactly
(Chan, Golub and LeVeque's pairwise update), so days add up from hours and
windows from days without losing the standard deviation to cancellation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt


def percentile_cont(sorted_values: Sequence[float] | npt.NDArray[np.float64], q: float) -> float:
    """The q-quantile of ascending values, interpolated as PostgreSQL's percentile_cont."""
    n = len(sorted_values)
    if n == 0:
        return math.nan
    position = q * (n - 1)
    below = math.floor(position)
    fraction = position - below
    value = float(sorted_values[below])
    if fraction > 0:
        value += fraction * (float(sorted_values[below + 1]) - value)
    return value


@dataclass
class Moments:
    """Count, mean, m2 (sum of squared deviations), extremes, first and last of some points."""

    count: int
    mean: float
    m2: float
    min: float
    max: float
    first_time: datetime
    last_time: datetime
    last_value: float

    @property
    def sum(self) -> float:
        return self.mean * self.count

    @property
    def stddev(self) -> float:
        """Sample standard deviation (0 for one point)."""
        if self.count < 2:
            return 0.0
        return math.sqrt(max(self.m2, 0.0) / (self.count - 1))

    def merged(self, other: Moments) -> Moments:
        n = self.count + other.count
        delta = other.mean - self.mean
        if other.last_time > self.last_time or (
            other.last_time == self.last_time and other.last_value > self.last_value
        ):
            last_time, last_value = other.last_time, other.last_value
        else:
            last_time, last_value = self.last_time, self.last_value
        return Moments(
            count=n,
            mean=self.mean + delta * other.count / n,
            m2=self.m2 + other.m2 + delta * delta * self.count * other.count / n,
            min=min(self.min, other.min),
            max=max(self.max, other.max),
            first_time=min(self.first_time, other.first_time),
            last_time=last_time,
            last_value=last_value,
        )


def merge_all(parts: Iterable[Moments]) -> Moments | None:
    total: Moments | None = None
    for part in parts:
        total = part if total is None else total.merged(part)
    return total


def moments_of(values: npt.NDArray[np.float64], times: Sequence[datetime]) -> Moments:
    """Moments of points given in time order (the last is the latest)."""
    mean = float(values.mean())
    return Moments(
        count=int(values.shape[0]),
        mean=mean,
        m2=float(((values - mean) ** 2).sum()),
        min=float(values.min()),
        max=float(values.max()),
        first_time=times[0],
        last_time=times[-1],
        last_value=float(values[-1]),
    )


def slope(series: Sequence[float]) -> float:
    """Least-squares slope of the series against its index (0 for fewer than two)."""
    n = len(series)
    if n < 2:
        return 0.0
    x = np.arange(n, dtype=np.float64)
    y = np.asarray(series, dtype=np.float64)
    x_centered = x - x.mean()
    return float((x_centered * (y - y.mean())).sum() / (x_centered**2).sum())
