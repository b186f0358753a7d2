"""A/B tests of process changes: deterministic sticky assignment and the analysis.

A unit's variant is a pure function of (salt, unit id, variants): SHA-256 of
"<salt>:<unit_id>", its first 8 bytes read as a big-endian integer over
2^64, a point u in [0, 1) that falls into the variants' cumulative weight
shares. The first assignment is stored, so a unit keeps its variant even if
the experiment's definition could change; every replica computes the same
variant, so a race between two first assignments stores the same row.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.errors import InvalidArgument, NotFound
from maestro_grpc.metrics.read import MetricsReader
from maestro_grpc.prediction.domain import stats
from maestro_grpc.prediction.model import (
    SUCCESS,
    SUCCESS_SCORE,
    Analysis,
    Assignment,
    Experiment,
    ExperimentFields,
    ExperimentUnit,
    Variant,
    VariantComparison,
    VariantResult,
)
from maestro_grpc.prediction.store.experiments import ExperimentStore
from maestro_grpc.registry.read import RegistryReader


def choose_variant(salt: str, unit_id: str, variants: Sequence[Variant]) -> str:
    """The variant of a unit (see the module docstring)."""
    digest = hashlib.sha256(f"{salt}:{unit_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2.0**64
    total = math.fsum(v.weight for v in variants)
    cumulative = 0.0
    for variant in variants:
        cumulative += variant.weight / total
        if point < cumulative:
            return variant.name
    return variants[-1].name


def analysis(
    experiment: Experiment,
    assigned: Sequence[Assignment],
    values: Mapping[str, float],
    confidence_level: float,
    end: datetime,
) -> Analysis:
    """Each variant's outcomes against the control's, and the sample-ratio check."""
    counts: dict[str, int] = defaultdict(int)
    outcomes: dict[str, list[float]] = defaultdict(list)
    for a in assigned:
        counts[a.variant] += 1
        value = values.get(a.unit_id)
        if value is not None:
            outcomes[a.variant].append(value)
    total_weight = math.fsum(v.weight for v in experiment.variants)
    results = [
        VariantResult(
            variant=v.name,
            units=counts[v.name],
            summary=stats.summarize(outcomes[v.name]),
            expected_share=v.weight / total_weight,
        )
        for v in experiment.variants
    ]
    control = results[0]
    comparisons = [
        VariantComparison(
            variant=r.variant,
            control=control.variant,
            comparison=stats.welch(r.summary, control.summary, confidence_level),
        )
        for r in results[1:]
    ]
    ratio = stats.sample_ratio([r.units for r in results], [v.weight for v in experiment.variants])
    return Analysis(experiment, results, comparisons, ratio, confidence_level, end)


class Experiments:
    """CreateExperiment, GetExperiment, AssignVariant and AnalyzeExperiment, without gRPC."""

    def __init__(
        self,
        store: ExperimentStore,
        *,
        registry: RegistryReader,
        metrics: MetricsReader,
        clock: Clock = utcnow,
    ) -> None:
        self.store = store
        self.registry = registry
        self.metrics = metrics
        self.clock = clock

    async def create(
        self, fields: ExperimentFields, *, request_id: str = "", fingerprint: str = ""
    ) -> Experiment:
        return await self.store.create(fields, request_id, fingerprint, self.clock())

    async def get(self, experiment_id: uuid.UUID) -> Experiment:
        found = await self.store.get(experiment_id)
        if found is None:
            raise NotFound(f"experiment {experiment_id} not found", reason="EXPERIMENT_NOT_FOUND")
        return found

    async def assign(
        self, experiment_id: uuid.UUID, unit_id: str, project_id: uuid.UUID | None
    ) -> Assignment:
        """The unit's variant: the stored one, else chosen now and stored."""
        experiment = await self.get(experiment_id)
        if experiment.unit is ExperimentUnit.PROJECT:
            # The unit is the project: its id, in one spelling.
            try:
                project_id = uuid.UUID(unit_id)
            except ValueError:
                raise InvalidArgument.for_field(
                    "unit_id", "must be a project UUID in a PROJECT experiment"
                ) from None
            unit_id = str(project_id)
        existing = await self.store.assignment(experiment_id, unit_id)
        if existing is not None:
            return existing
        if project_id is not None and not await self.registry.project_exists(project_id):
            raise NotFound(f"project {project_id} not found", reason="PROJECT_NOT_FOUND")
        variant = choose_variant(experiment.salt, unit_id, experiment.variants)
        return await self.store.assign(experiment_id, unit_id, variant, project_id, self.clock())

    async def analyze(
        self, experiment_id: uuid.UUID, confidence_level: float, end_time: datetime | None
    ) -> Analysis:
        end = end_time or self.clock()
        experiment = await self.get(experiment_id)
        assigned = await self.store.assignments(experiment_id, end)
        values = await self._outcomes(experiment.outcome_metric, assigned, end)
        return analysis(experiment, assigned, values, confidence_level, end)

    async def _outcomes(
        self, metric: str, assigned: Sequence[Assignment], end: datetime
    ) -> dict[str, float]:
        """unit id -> its outcome value (units without one are absent)."""
        with_project = [a for a in assigned if a.project_id is not None]
        if metric in {SUCCESS, SUCCESS_SCORE}:
            return await self._success(metric, with_project, end)
        out: dict[str, float] = {}
        for a in with_project:
            assert a.project_id is not None
            points = await self.metrics.metric_points(a.project_id, a.assign_time, end)
            values = [value for name, _, value in points if name == metric]
            if values:
                out[a.unit_id] = math.fsum(values) / len(values)
        return out

    async def _success(
        self, metric: str, assigned: Sequence[Assignment], end: datetime
    ) -> dict[str, float]:
        """The outcome of each unit's project, as recorded before `end`."""
        ids = {a.project_id for a in assigned if a.project_id}
        recorded = {p.id: p for p in await self.registry.projects(ids)}
        out: dict[str, float] = {}
        for a in assigned:
            found = recorded.get(a.project_id) if a.project_id else None
            if found is None or found.success_record_time is None:
                continue
            if found.success_record_time >= end:
                continue
            if metric == SUCCESS:
                out[a.unit_id] = 1.0 if found.succeeded else 0.0
            elif found.score is not None:
                out[a.unit_id] = float(found.score)
        return out
