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
from collections.abc import Sequence
from datetime import datetime

import numpy as np

from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.errors import FailedPrecondition, InvalidArgument, NotFound
from maestro_grpc.metrics.read import MetricsReader
from maestro_grpc.paging import Cursor, Page
from maestro_grpc.prediction.domain import analysis as analysing
from maestro_grpc.prediction.domain import stats, verdicts
from maestro_grpc.prediction.domain.outcomes import Outcomes
from maestro_grpc.prediction.model import (
    AnalysisOptions,
    Assignment,
    Enrolment,
    Experiment,
    ExperimentFields,
    ExperimentStatus,
    ExperimentUnit,
    Variant,
    VerdictSink,
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


async def analyse(
    experiment: Experiment,
    enrolment: Enrolment,
    outcomes: Outcomes,
    options: AnalysisOptions,
    end: datetime,
) -> analysing.Analysis:
    """Every metric's comparisons, adjusted p-values and verdicts, and the sample-ratio check."""
    alpha = 1.0 - options.confidence_level
    index = {v.name: i for i, v in enumerate(experiment.variants)}
    unit_variant = np.array([index.get(v, -1) for v in enrolment.variants], dtype=np.int64)
    counts = np.bincount(unit_variant[unit_variant >= 0], minlength=len(index))
    weights = [v.weight for v in experiment.variants]
    ratio = stats.sample_ratio([int(c) for c in counts], weights, options.srm_min_units)
    metrics = [
        analysing.analyse_metric(
            experiment, spec, await outcomes.observed(spec), unit_variant, alpha
        )
        for spec in experiment.metrics
    ]
    metrics = analysing.adjust_and_judge(metrics, alpha, options.adjustment, ratio)
    total = math.fsum(weights)
    return analysing.Analysis(
        experiment=experiment,
        metrics=metrics,
        sample_ratio=ratio,
        confidence_level=options.confidence_level,
        end_time=end,
        adjustment=options.adjustment,
        expected_shares=[w / total for w in weights],
    )


class Experiments:
    """Create, Get, List, Stop, AssignVariant and AnalyzeExperiment, without gRPC."""

    def __init__(
        self,
        store: ExperimentStore,
        *,
        registry: RegistryReader,
        metrics: MetricsReader,
        clock: Clock = utcnow,
        verdicts: VerdictSink | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.metrics = metrics
        self.clock = clock
        # Told of the verdicts an analysis reaches (the feed of the projects' followers).
        self.verdicts = verdicts

    async def create(
        self, fields: ExperimentFields, *, request_id: str = "", fingerprint: str = ""
    ) -> Experiment:
        return await self.store.create(fields, request_id, fingerprint, self.clock())

    async def get(self, experiment_id: uuid.UUID) -> Experiment:
        found = await self.store.get(experiment_id)
        if found is None:
            raise NotFound(f"experiment {experiment_id} not found", reason="EXPERIMENT_NOT_FOUND")
        return found

    async def list(
        self, page_size: int, after: Cursor | None, status: ExperimentStatus | None
    ) -> Page[Experiment]:
        return await self.store.page(page_size, after, status, self.clock())

    async def assignments(
        self,
        experiment_id: uuid.UUID,
        *,
        variant: str,
        page_size: int,
        after: Cursor | None,
        within: frozenset[uuid.UUID] | None = None,
    ) -> Page[Assignment]:
        """A page of the experiment's units by unit id, of one variant or all;
        `within`: only units of these projects (a caller limited to some)."""
        experiment = await self.get(experiment_id)
        if variant and variant not in {v.name for v in experiment.variants}:
            raise InvalidArgument.for_field(
                "variant", f"experiment {experiment_id} has no variant {variant!r}"
            )
        return await self.store.assignments(
            experiment_id,
            variant=variant or None,
            page_size=page_size,
            after=after,
            within=within,
        )

    async def stop(self, experiment_id: uuid.UUID) -> Experiment:
        """End a running experiment now (a stopped one stays as it is)."""
        now = self.clock()
        experiment = await self.get(experiment_id)
        status = experiment.status(now)
        if status is ExperimentStatus.DRAFT:
            raise FailedPrecondition(
                f"experiment {experiment_id} has not started (it starts at "
                f"{experiment.start_time.isoformat()})",
                reason="EXPERIMENT_NOT_STARTED",
            )
        if status is ExperimentStatus.RUNNING:
            await self.store.stop(experiment_id, now)
        return await self.get(experiment_id)

    async def assign(
        self, experiment_id: uuid.UUID, unit_id: str, project_id: uuid.UUID | None
    ) -> Assignment:
        """The unit's variant: the stored one, else chosen now and stored.

        A TEAM unit's project is linked to it on any call while running.
        """
        now = self.clock()
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
        running = experiment.status(now) is ExperimentStatus.RUNNING
        existing = await self.store.assignment(experiment_id, unit_id)
        if existing is not None and (not running or project_id in (None, existing.project_id)):
            return existing
        if not running:
            raise FailedPrecondition(
                f"experiment {experiment_id} is {experiment.status(now).value}: "
                "it assigns units only while running",
                reason="EXPERIMENT_NOT_RUNNING",
            )
        if project_id is not None and not await self.registry.project_exists(project_id):
            raise NotFound(f"project {project_id} not found", reason="PROJECT_NOT_FOUND")
        if existing is not None:
            assert project_id is not None
            await self.store.link(experiment_id, unit_id, project_id, now)
            return existing
        variant = choose_variant(experiment.salt, unit_id, experiment.variants)
        return await self.store.assign(experiment_id, unit_id, variant, project_id, now)

    async def analyze(
        self, experiment_id: uuid.UUID, options: AnalysisOptions
    ) -> analysing.Analysis:
        experiment = await self.get(experiment_id)
        end = options.end_time or self.clock()
        if experiment.end_time is not None:
            end = min(end, experiment.end_time)
        enrolment = await self.store.units(experiment_id, end)
        outcomes = Outcomes(enrolment, end, self.metrics, self.registry)
        analysis = await analyse(experiment, enrolment, outcomes, options, end)
        if self.verdicts is not None:
            await verdicts.announce(self.verdicts, analysis, enrolment.project_ids)
        return analysis
