"""Each counted project's observation of a metric, read set-wise through the two read APIs.

A metric costs one or two queries whatever the number of units (the
metrics store totals every project's window in one statement and answers
in columns); the success metrics cost one read of the projects' outcomes
per analysis. Each project counts for one unit only (the store's links
keep the first unit linked to it).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import numpy as np
import numpy.typing as npt

from maestro_grpc.metrics.read import MetricsReader, Windows, WindowTotals
from maestro_grpc.prediction.domain.analysis import Observed
from maestro_grpc.prediction.model import (
    SUCCESS,
    Aggregation,
    Enrolment,
    MetricKind,
    MetricSpec,
)
from maestro_grpc.registry.read import ProjectOutcome, RegistryReader

Floats = npt.NDArray[np.float64]


def values(t: WindowTotals, aggregation: Aggregation, pre: bool) -> Floats:
    """Each window's value by the aggregation (0 for a window without points)."""
    count, total, last = (
        (t.pre_count, t.pre_total, t.pre_last) if pre else (t.count, t.total, t.last)
    )
    if aggregation is Aggregation.SUM:
        return total
    if aggregation is Aggregation.LAST:
        return last
    if aggregation is Aggregation.COUNT:
        return count.astype(np.float64)
    return np.divide(total, count, out=np.zeros(len(total)), where=count > 0)


def observed(
    spec: MetricSpec, units: npt.NDArray[np.int64], num: WindowTotals, den: WindowTotals | None
) -> Observed:
    """The projects' observations (see MetricKind for who has a value)."""
    agg = spec.aggregation
    value, pre = values(num, agg, False), values(num, agg, True)
    denominator = np.ones(len(value))
    if spec.kind is MetricKind.RATIO:
        assert den is not None
        keep = (num.count > 0) | (den.count > 0)
        denominator = values(den, agg, False)
    elif spec.kind is MetricKind.MEAN:
        keep = num.count > 0
    else:
        keep = np.ones(len(value), dtype=bool)
    if spec.kind is MetricKind.PROPORTION:
        value, pre = (value > 0).astype(np.float64), (pre > 0).astype(np.float64)
    return Observed(units[keep], value[keep], denominator[keep], pre[keep])


class Outcomes:
    """One analysis' reads: the windows of every counted project, success read once."""

    def __init__(
        self, enrolment: Enrolment, end: datetime, metrics: MetricsReader, registry: RegistryReader
    ) -> None:
        self.enrolment = enrolment
        self.end = end
        self.metrics = metrics
        self.registry = registry
        self.units = np.asarray(enrolment.project_units, dtype=np.int64)
        self._outcomes: dict[uuid.UUID, ProjectOutcome] | None = None

    async def observed(self, spec: MetricSpec) -> Observed:
        if spec.is_success:
            return await self._success(spec)
        e = self.enrolment
        windows = Windows(
            project_ids=e.project_ids,
            starts=[e.assign_times[u] for u in e.project_units],
            end=self.end,
            pre_days=spec.pre_period_days,
        )
        last = spec.aggregation is Aggregation.LAST
        num = await self.metrics.window_totals(spec.name, windows, with_last=last)
        den = None
        if spec.kind is MetricKind.RATIO:
            den = await self.metrics.window_totals(spec.denominator, windows, with_last=last)
        return observed(spec, self.units, num, den)

    async def _success(self, spec: MetricSpec) -> Observed:
        """The recorded outcome of each counted project, as recorded before the end."""
        ids = self.enrolment.project_ids
        if self._outcomes is None:
            self._outcomes = await self.registry.outcomes(ids)
        got = [self._outcome(spec, self._outcomes.get(p)) for p in ids]
        keep = np.array([v is not None for v in got], dtype=bool)
        value = np.array([v or 0.0 for v in got], dtype=np.float64)
        ones = np.ones(int(keep.sum()))
        return Observed(self.units[keep], value[keep], ones, np.zeros(len(ones)))

    def _outcome(self, spec: MetricSpec, found: ProjectOutcome | None) -> float | None:
        if found is None or found.record_time >= self.end:
            return None
        if spec.name == SUCCESS:
            return 1.0 if found.succeeded else 0.0
        return None if found.score is None else float(found.score)
