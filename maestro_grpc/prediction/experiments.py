"""A/B tests of process changes: deterministic sticky assignment and the analysis.

A unit's variant is a pure function of (salt, unit id, variants): SHA-256 of
"<salt>:<unit_id>", its first 8 bytes read as a big-endian integer over
2^64, a point u in [0, 1) that falls into the variants' cumulative weight
shares. The first assignment is stored, so a unit keeps its variant even if
the experiment's definition could change; every replica computes the same
variant, so a race between two first assignments stores the same row.
"""

from __future__ import annotations

import enum
import hashlib
import math
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.errors import AlreadyExists, InvalidArgument, NotFound
from maestro_grpc.metrics.read import MetricsReader
from maestro_grpc.prediction import stats
from maestro_grpc.prediction.store.tables import experiment_assignments, experiments
from maestro_grpc.registry.read import RegistryReader
from maestro_grpc.store import idempotency
from maestro_grpc.store.db import Database

SUCCESS = "success"
SUCCESS_SCORE = "success_score"


class ExperimentUnit(enum.Enum):
    PROJECT = "project"
    TEAM = "team"


@dataclass(frozen=True)
class Variant:
    name: str
    weight: float


@dataclass(frozen=True)
class ExperimentFields:
    name: str
    description: str
    unit: ExperimentUnit
    variants: tuple[Variant, ...]
    outcome_metric: str
    salt: str = ""


@dataclass(frozen=True)
class Experiment:
    id: uuid.UUID
    name: str
    description: str
    unit: ExperimentUnit
    variants: tuple[Variant, ...]
    outcome_metric: str
    salt: str
    create_time: datetime


@dataclass(frozen=True)
class Assignment:
    experiment_id: uuid.UUID
    unit_id: str
    variant: str
    project_id: uuid.UUID | None
    assign_time: datetime


@dataclass(frozen=True)
class VariantResult:
    variant: str
    units: int
    summary: stats.Summary
    expected_share: float


@dataclass(frozen=True)
class VariantComparison:
    variant: str
    control: str
    comparison: stats.Comparison


@dataclass(frozen=True)
class Analysis:
    experiment: Experiment
    results: list[VariantResult]
    comparisons: list[VariantComparison]
    sample_ratio: stats.SampleRatio
    confidence_level: float
    end_time: datetime


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


def _experiment(row: Any) -> Experiment:
    return Experiment(
        id=row.id,
        name=row.name,
        description=row.description,
        unit=ExperimentUnit(row.unit),
        variants=tuple(Variant(v["name"], float(v["weight"])) for v in row.variants),
        outcome_metric=row.outcome_metric,
        salt=row.salt,
        create_time=row.create_time,
    )


def _assignment(row: Any) -> Assignment:
    return Assignment(
        experiment_id=row.experiment_id,
        unit_id=row.unit_id,
        variant=row.variant,
        project_id=row.project_id,
        assign_time=row.assign_time,
    )


class Experiments:
    def __init__(
        self,
        db: Database,
        *,
        registry: RegistryReader,
        metrics: MetricsReader,
        clock: Clock = utcnow,
    ) -> None:
        self.db = db
        self.registry = registry
        self.metrics = metrics
        self.clock = clock

    async def create(
        self, fields: ExperimentFields, *, request_id: str = "", fingerprint: str = ""
    ) -> Experiment:
        now = self.clock()
        try:
            async with self.db.write() as conn:
                if request_id:
                    earlier = await idempotency.claim(
                        conn, "CreateExperiment", request_id, fingerprint, now
                    )
                    if earlier:
                        return await self._load(conn, uuid.UUID(earlier))
                experiment_id = uuid.uuid4()
                await conn.execute(
                    experiments.insert().values(
                        id=experiment_id,
                        name=fields.name,
                        description=fields.description,
                        unit=fields.unit.value,
                        variants=[{"name": v.name, "weight": v.weight} for v in fields.variants],
                        outcome_metric=fields.outcome_metric,
                        salt=fields.salt or str(experiment_id),
                        create_time=now,
                    )
                )
                if request_id:
                    await idempotency.complete(
                        conn, "CreateExperiment", request_id, str(experiment_id)
                    )
                return await self._load(conn, experiment_id)
        except IntegrityError as error:
            if "name" in str(error.orig):
                raise AlreadyExists(
                    f"an experiment named {fields.name!r} already exists",
                    reason="EXPERIMENT_EXISTS",
                ) from None
            raise

    async def get(self, experiment_id: uuid.UUID) -> Experiment:
        async with self.db.read() as conn:
            return await self._load(conn, experiment_id)

    async def _load(self, conn: AsyncConnection, experiment_id: uuid.UUID) -> Experiment:
        row = (
            await conn.execute(select(experiments).where(experiments.c.id == experiment_id))
        ).first()
        if row is None:
            raise NotFound(f"experiment {experiment_id} not found", reason="EXPERIMENT_NOT_FOUND")
        return _experiment(row)

    async def assign(
        self, experiment_id: uuid.UUID, unit_id: str, project_id: uuid.UUID | None
    ) -> Assignment:
        async with self.db.write() as conn:
            experiment = await self._load(conn, experiment_id)
            if experiment.unit is ExperimentUnit.PROJECT:
                try:
                    project_id = uuid.UUID(unit_id)
                except ValueError:
                    raise InvalidArgument.for_field(
                        "unit_id", "must be a project UUID in a PROJECT experiment"
                    ) from None
                unit_id = str(project_id)
            existing = await self._assignment(conn, experiment_id, unit_id)
            if existing is not None:
                return existing
            if project_id is not None and not await self.registry.project_exists(project_id):
                raise NotFound(f"project {project_id} not found", reason="PROJECT_NOT_FOUND")
            variant = choose_variant(experiment.salt, unit_id, experiment.variants)
            insert = pg_insert if self.db.is_postgres else sqlite_insert
            await conn.execute(
                insert(experiment_assignments)
                .values(
                    experiment_id=experiment_id,
                    unit_id=unit_id,
                    variant=variant,
                    project_id=project_id,
                    assign_time=self.clock(),
                )
                .on_conflict_do_nothing()
            )
            stored = await self._assignment(conn, experiment_id, unit_id)
            assert stored is not None
            return stored

    async def _assignment(
        self, conn: AsyncConnection, experiment_id: uuid.UUID, unit_id: str
    ) -> Assignment | None:
        row = (
            await conn.execute(
                select(experiment_assignments).where(
                    experiment_assignments.c.experiment_id == experiment_id,
                    experiment_assignments.c.unit_id == unit_id,
                )
            )
        ).first()
        return None if row is None else _assignment(row)

    async def analyze(
        self, experiment_id: uuid.UUID, confidence_level: float, end_time: datetime | None
    ) -> Analysis:
        end = end_time or self.clock()
        async with self.db.read() as conn:
            experiment = await self._load(conn, experiment_id)
            rows = await conn.execute(
                select(experiment_assignments)
                .where(
                    experiment_assignments.c.experiment_id == experiment_id,
                    experiment_assignments.c.assign_time < end,
                )
                .order_by(experiment_assignments.c.unit_id)
            )
            assigned = [_assignment(r) for r in rows]
            values = await self._outcomes(conn, experiment.outcome_metric, assigned, end)
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
        ratio = stats.sample_ratio(
            [r.units for r in results], [v.weight for v in experiment.variants]
        )
        return Analysis(experiment, results, comparisons, ratio, confidence_level, end)

    async def _outcomes(
        self,
        conn: AsyncConnection,
        metric: str,
        assigned: Sequence[Assignment],
        end: datetime,
    ) -> dict[str, float]:
        """unit id -> its outcome value (units without one are absent)."""
        with_project = [a for a in assigned if a.project_id is not None]
        out: dict[str, float] = {}
        if metric in {SUCCESS, SUCCESS_SCORE}:
            ids = {a.project_id for a in with_project if a.project_id}
            recorded: dict[uuid.UUID | None, Any] = {
                p.id: p for p in await self.registry.projects(ids)
            }
            for a in with_project:
                found = recorded.get(a.project_id)
                if found is None or found.success_record_time is None:
                    continue
                if found.success_record_time >= end:
                    continue
                if metric == SUCCESS:
                    out[a.unit_id] = 1.0 if found.succeeded else 0.0
                elif found.score is not None:
                    out[a.unit_id] = float(found.score)
            return out
        for a in with_project:
            assert a.project_id is not None
            points = await self.metrics.metric_points(a.project_id, a.assign_time, end)
            values = [value for name, _, value in points if name == metric]
            if values:
                out[a.unit_id] = math.fsum(values) / len(values)
        return out
