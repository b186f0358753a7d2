"""Each unit's observations of a metric, read set-wise through the two read APIs.

A metric costs one or two queries whatever the number of units (the
metrics store aggregates every project's window in one statement); the
success metrics cost one read of the projects' outlines per analysis.
Each project is counted for one unit only (the store's links keep the
first unit linked to it).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from maestro_grpc.metrics.read import MetricsReader, UnitWindow, WindowTotals
from maestro_grpc.prediction.domain.analysis import Observation
from maestro_grpc.prediction.model import (
    SUCCESS,
    Aggregation,
    MetricKind,
    MetricSpec,
    UnitProjects,
)
from maestro_grpc.registry.read import ProjectOutline, RegistryReader

Observed = dict[str, list[Observation]]
_NONE = WindowTotals()


def _value(t: WindowTotals, aggregation: Aggregation, pre: bool) -> float:
    count, total, last = (
        (t.pre_count, t.pre_total, t.pre_last) if pre else (t.count, t.total, t.last)
    )
    if aggregation is Aggregation.SUM:
        return total
    if aggregation is Aggregation.LAST:
        return last
    if aggregation is Aggregation.COUNT:
        return float(count)
    return total / count if count else 0.0


def observation(
    spec: MetricSpec, num: WindowTotals | None, den: WindowTotals | None
) -> Observation | None:
    """A project's observation from its totals (None: no value for this metric)."""
    agg = spec.aggregation
    if spec.kind is MetricKind.RATIO:
        if num is None and den is None:
            return None
        return Observation(_value(num or _NONE, agg, False), _value(den or _NONE, agg, False))
    if spec.kind is MetricKind.MEAN and (num is None or num.count == 0):
        return None
    got = num or _NONE
    value, pre = _value(got, agg, False), _value(got, agg, True)
    if spec.kind is MetricKind.PROPORTION:
        value, pre = float(value > 0), float(pre > 0)
    return Observation(value, pre=pre)


class Outcomes:
    """One analysis' reads: the windows of every unit's projects, success read once."""

    def __init__(
        self,
        units: Sequence[UnitProjects],
        end: datetime,
        metrics: MetricsReader,
        registry: RegistryReader,
    ) -> None:
        self.units = units
        self.end = end
        self.metrics = metrics
        self.registry = registry
        self._outlines: dict[uuid.UUID, ProjectOutline] | None = None

    async def observed(self, spec: MetricSpec) -> Observed:
        if spec.is_success:
            return await self._success(spec)
        days = spec.pre_period_days
        windows = [
            UnitWindow(
                project_id=p,
                start=u.assign_time,
                end=self.end,
                pre_start=u.assign_time - timedelta(days=days) if days > 0 else None,
            )
            for u in self.units
            for p in u.project_ids
        ]
        last = spec.aggregation is Aggregation.LAST
        num = await self.metrics.window_totals(spec.name, windows, with_last=last)
        den: dict[uuid.UUID, WindowTotals] = {}
        if spec.kind is MetricKind.RATIO:
            den = await self.metrics.window_totals(spec.denominator, windows, with_last=last)
        out: Observed = {}
        for u in self.units:
            for p in u.project_ids:
                found = observation(spec, num.get(p), den.get(p))
                if found is not None:
                    out.setdefault(u.unit_id, []).append(found)
        return out

    async def _success(self, spec: MetricSpec) -> Observed:
        """The recorded outcome of each unit's projects, as recorded before the end."""
        if self._outlines is None:
            ids = {p for u in self.units for p in u.project_ids}
            self._outlines = {p.id: p for p in await self.registry.projects(ids)} if ids else {}
        out: Observed = {}
        for u in self.units:
            for p in u.project_ids:
                found = self._outlines.get(p)
                if found is None or found.success_record_time is None:
                    continue
                if found.success_record_time >= self.end:
                    continue
                if spec.name == SUCCESS:
                    value = 1.0 if found.succeeded else 0.0
                elif found.score is not None:
                    value = float(found.score)
                else:
                    continue
                out.setdefault(u.unit_id, []).append(Observation(value))
        return out
