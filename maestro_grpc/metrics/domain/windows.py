"""Rollup windows: which aligned spans of time a write touched, coarsened to a few.

A write enqueues one rollup job per window it touched, in its own
transaction, so every stored point is either in a rollup or covered by a
pending job. A batch spread over many hours (a backfill) is coarsened to
days, months or years so that it enqueues at most a handful of jobs.
"""

from __future__ import annotations

import uuid

import numpy as np
import numpy.typing as npt

from maestro_grpc.clock import from_micros, to_micros
from maestro_grpc.metrics.model import Window

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
MAX_WINDOWS = 8
UNITS = ("hour", "day", "month", "year")


def _truncate(times_us: npt.NDArray[np.int64], unit: str) -> npt.NDArray[np.int64]:
    if unit == "hour":
        return times_us - times_us % HOUR_US
    if unit == "day":
        return times_us - times_us % DAY_US
    code = "M" if unit == "month" else "Y"
    starts = times_us.astype("datetime64[us]").astype(f"datetime64[{code}]")
    return starts.astype("datetime64[us]").astype(np.int64)


def _end(start_us: int, unit: str) -> int:
    if unit == "hour":
        return start_us + HOUR_US
    if unit == "day":
        return start_us + DAY_US
    start = from_micros(start_us)
    if unit == "month":
        end = (
            start.replace(year=start.year + 1, month=1)
            if start.month == 12
            else start.replace(month=start.month + 1)
        )
    else:
        end = start.replace(year=start.year + 1)
    return to_micros(end)


def windows_of(project_id: uuid.UUID, times_us: npt.NDArray[np.int64]) -> list[Window]:
    """The windows covering `times_us`, in the finest unit giving at most MAX_WINDOWS."""
    if times_us.shape[0] == 0:
        return []
    for unit in UNITS:
        starts = np.unique(_truncate(times_us, unit))
        if starts.shape[0] <= MAX_WINDOWS or unit == "year":
            return [Window(project_id, unit, s, _end(s, unit)) for s in starts.tolist()]
    raise AssertionError("unreachable")  # pragma: no cover
