"""The Prediction domain: training, predicting, explaining and staffing, over the store."""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.errors import FailedPrecondition, NotFound, Unavailable
from maestro_grpc.metrics.read import MetricsReader
from maestro_grpc.paging import Cursor, Page
from maestro_grpc.prediction import teams
from maestro_grpc.prediction.explain import Explanation, LoadedModel
from maestro_grpc.prediction.features import (
    CandidatePool,
    FeatureReader,
    Features,
    Member,
    ProjectRecord,
    Window,
    compute,
    load_projects,
    window_for,
)
from maestro_grpc.prediction.models import MetaModelRecord, ModelStore, PredictionRecord
from maestro_grpc.prediction.runner import TrainingRunner
from maestro_grpc.prediction.tracking import tag_version
from maestro_grpc.prediction.training import (
    TrackingFailed,
    TrackingTarget,
    TrainingError,
    TrainingJob,
    TrainingSet,
    check_counts,
    check_trainable,
)
from maestro_grpc.registry.read import RegistryReader
from maestro_grpc.store.db import Database

log = logging.getLogger("maestro.prediction")

FINISHED = {"completed", "cancelled"}
FEATURE_BATCH = 200

Report = Callable[[str, float, str], None]


@dataclass(frozen=True)
class Candidate:
    person_id: str
    display_name: str
    role: str
    years_experience: float
    skills: frozenset[str]
    availability: float

    def member(self) -> Member:
        return Member(
            role=self.role,
            years_experience=self.years_experience,
            skills=self.skills,
            allocation=self.availability,
        )


@dataclass(frozen=True)
class Proposal:
    members: list[Candidate]
    probability: float
    coverage: float
    score: float
    reasons: list[str]
    extrapolation: bool


@dataclass(frozen=True)
class Recommendation:
    current: Proposal
    proposals: list[Proposal]
    model_version: int


@dataclass(frozen=True)
class TrainingOptions:
    observation_days: int
    folds: int
    repeats: int
    seed: int


class Predictor:
    """What the PredictionService does for the meta-model, independent of gRPC."""

    def __init__(
        self,
        db: Database,
        runner: TrainingRunner,
        tracking: TrackingTarget | None,
        half_life_days: float,
        *,
        registry: RegistryReader,
        metrics: MetricsReader,
        clock: Clock = utcnow,
    ) -> None:
        self.db = db
        self.runner = runner
        self.tracking = tracking
        self.registry = registry
        self.reader = FeatureReader(registry, metrics, half_life_days)
        self.models = ModelStore(db, clock)
        self.clock = clock

    # ---- training ----------------------------------------------------------------------

    async def training_set(
        self, options: TrainingOptions, report: Report
    ) -> tuple[TrainingSet, int]:
        """The eligible projects' features and outcomes, and how many were left out."""
        now = self.clock()
        report("loading", 0.0, "finding finished projects with a recorded outcome")
        # By name (unique, and the same in every store and every import), so
        # the same data and seed give the same folds and the same model.
        everything = sorted(await load_projects(self.registry), key=lambda p: p.name)
        targets: list[tuple[ProjectRecord, Window]] = []
        left_out = 0
        for project in everything:
            if project.status not in FINISHED or project.succeeded is None:
                continue
            window = window_for(project.start, options.observation_days, now)
            finished = project.finished_time
            if not window.complete or finished is None or finished < window.end:
                left_out += 1
                continue
            targets.append((project, window))
        positives = sum(1 for p, _ in targets if p.succeeded)
        try:
            check_counts(len(targets), positives, options.folds, left_out)
        except TrainingError as error:
            raise FailedPrecondition(str(error), reason="NOT_ENOUGH_PROJECTS") from None
        report("features", 0.05, f"measuring {len(targets)} projects")
        rows: list[Features] = []
        for start in range(0, len(targets), FEATURE_BATCH):
            batch = targets[start : start + FEATURE_BATCH]
            observed = await self.reader.observe(batch)
            rows += [
                compute(project, window, obs)
                for (project, window), obs in zip(batch, observed, strict=True)
            ]
            report(
                "features",
                0.05 + 0.2 * len(rows) / len(targets),
                f"{len(rows)}/{len(targets)} projects",
            )
        names = sorted({name for row in rows for name, value in row.items() if value is not None})
        x = np.array(
            [[_number(row.get(name)) for name in names] for row in rows], dtype=np.float64
        ).reshape(len(rows), len(names))
        y = np.array([1 if p.succeeded else 0 for p, _ in targets], dtype=np.int64)
        ts = TrainingSet(
            feature_names=names,
            x=x,
            y=y,
            project_ids=[str(p.id) for p, _ in targets],
            observation_days=options.observation_days,
        )
        return ts, left_out

    async def train(self, options: TrainingOptions, report: Report) -> MetaModelRecord:
        ts, left_out = await self.training_set(options, report)
        try:
            check_trainable(ts, options.folds, left_out)
        except TrainingError as error:
            raise FailedPrecondition(str(error), reason="NOT_TRAINABLE") from None
        job = TrainingJob(
            job_id=uuid.uuid4().hex,
            training_set=ts,
            folds=options.folds,
            repeats=options.repeats,
            seed=options.seed,
            tracking=self.tracking,
        )
        try:
            outcome = await self.runner.run(job, report)
        except TrainingError as error:
            raise FailedPrecondition(str(error), reason="NOT_TRAINABLE") from None
        except TrackingFailed as error:
            # Every version is logged: without MLflow, none is stored.
            raise Unavailable(
                str(error), reason="TRACKING_UNAVAILABLE", retry_delay_seconds=30.0
            ) from None
        report("storing", 0.96, "storing the new version")
        record = await self.models.insert(outcome, ts.feature_names)
        if self.tracking is not None and record.mlflow_run_id:
            try:
                await self.runner.call(
                    tag_version, self.tracking, record.mlflow_run_id, record.version
                )
            except Exception:  # pragma: no cover - a tag is a convenience, not the record
                log.warning("could not tag MLflow run %s", record.mlflow_run_id, exc_info=True)
        report("done", 1.0, f"version {record.version}")
        return record

    # ---- models ------------------------------------------------------------------------

    async def get_model(self, version: int) -> MetaModelRecord:
        return await self.models.get(version)

    async def list_models(self, page_size: int, after: Cursor | None) -> Page[MetaModelRecord]:
        return await self.models.list(page_size, after)

    # ---- prediction ----------------------------------------------------------------------

    async def _observe(
        self, conn: AsyncConnection, project_id: uuid.UUID, model: LoadedModel
    ) -> tuple[ProjectRecord, Window, Features]:
        found = await load_projects(self.registry, [project_id])
        if not found:
            raise NotFound(f"project {project_id} not found", reason="PROJECT_NOT_FOUND")
        project = found[0]
        window = window_for(project.start, model.observation_days, self.clock())
        observed = await self.reader.observe([(project, window)])
        return project, window, compute(project, window, observed[0])

    async def predict(self, project_id: uuid.UUID, version: int) -> PredictionRecord:
        async with self.db.read() as conn:
            resolved = await self.models.resolve(conn, version)
            model = await self.models.load(conn, resolved)
            _, window, features = await self._observe(conn, project_id, model)
        explanation = model.explain(features, window.complete)
        try:
            async with self.db.write() as conn:
                return await self.models.save_prediction(
                    conn, project_id, model.version, explanation, window.observed_end
                )
        except IntegrityError:
            raise NotFound(
                f"project {project_id} was deleted", reason="PROJECT_NOT_FOUND"
            ) from None

    async def list_predictions(
        self, project_id: uuid.UUID, page_size: int, after: Cursor | None
    ) -> Page[PredictionRecord]:
        return await self.models.list_predictions(project_id, page_size, after)

    # ---- team recommendation -------------------------------------------------------------------

    async def recommend_team(
        self,
        project_id: uuid.UUID,
        candidates: Sequence[Candidate],
        limits: teams.Limits,
        max_results: int,
        version: int,
    ) -> Recommendation:
        async with self.db.read() as conn:
            resolved = await self.models.resolve(conn, version)
            model = await self.models.load(conn, resolved)
            project, window, features = await self._observe(conn, project_id, model)
        team = await self.registry.team_members([project_id])
        current = [
            Candidate(
                person_id=m.person_id,
                display_name=m.display_name,
                role=m.role.value,
                years_experience=float(m.years_experience),
                skills=frozenset(s.lower() for s in m.skills),
                availability=float(m.allocation),
            )
            for m in team.get(project_id, [])
            if m.leave_time is None
        ]
        teams.check_limits([c.availability for c in candidates], limits)
        return await asyncio.to_thread(
            self._recommend,
            model,
            project,
            window,
            features,
            list(candidates),
            current,
            limits,
            max_results,
        )

    def _recommend(
        self,
        model: LoadedModel,
        project: ProjectRecord,
        window: Window,
        features: Features,
        candidates: list[Candidate],
        current: list[Candidate],
        limits: teams.Limits,
        max_results: int,
    ) -> Recommendation:
        required = project.required_skills
        current_scorer = teams.TeamScorer(
            model, features, CandidatePool.of([c.member() for c in current], required)
        )
        everyone = np.ones((1, len(current)), dtype=bool)
        p, cov, score = current_scorer.score(everyone)
        current_features = current_scorer.features(everyone)
        current_explained = model.explain(current_features, window.complete)
        current_proposal = Proposal(
            members=current,
            probability=float(p[0]),
            coverage=float(cov[0]),
            score=float(score[0]),
            reasons=_coverage_reason(required, current)
            + _top_team_reasons(current_explained, None),
            extrapolation=bool(current_explained.extrapolation_reasons),
        )
        scorer = teams.TeamScorer(
            model, features, CandidatePool.of([c.member() for c in candidates], required)
        )
        seed = int.from_bytes(project.id.bytes[:4], "big")
        found = teams.search(
            scorer, [c.availability for c in candidates], limits, max_results, seed
        )
        proposals = []
        for team in found:
            mask = np.zeros(len(candidates), dtype=bool)
            mask[list(team.members)] = True
            explained = model.explain(scorer.features(mask), window.complete)
            members = [candidates[i] for i in team.members]
            reasons = [
                f"predicted probability of success {team.probability:.2f} against "
                f"{current_proposal.probability:.2f} with the current team"
            ]
            reasons += _coverage_reason(required, members)
            reasons += _top_team_reasons(explained, current_explained)
            proposals.append(
                Proposal(
                    members=members,
                    probability=team.probability,
                    coverage=team.coverage,
                    score=team.score,
                    reasons=reasons,
                    extrapolation=bool(explained.extrapolation_reasons),
                )
            )
        return Recommendation(current_proposal, proposals, model.version)


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _coverage_reason(required: frozenset[str], members: Sequence[Candidate]) -> list[str]:
    if not required:
        return []
    covered = set().union(*(m.skills for m in members)) if members else set()
    missing = sorted(required - covered)
    if not missing:
        return [f"covers all {len(required)} required skills"]
    return [
        f"covers {len(required) - len(missing)} of {len(required)} required skills "
        f"(missing: {', '.join(missing)})"
    ]


def _top_team_reasons(
    explained: Explanation, baseline: Explanation | None, limit: int = 3
) -> list[str]:
    """The team features that move the log-odds most (against the baseline team's)."""
    before = {c.feature: c for c in baseline.contributions} if baseline else {}
    moves = []
    for c in explained.contributions:
        if not c.feature.startswith("team."):
            continue
        other = before.get(c.feature)
        delta = c.contribution - (other.contribution if other else 0.0)
        if abs(delta) < 1e-6:
            continue
        text = f"{c.feature} = {c.value:.3g}"
        if other is not None:
            text += f" (current team {other.value:.3g})"
        verb = "raises" if delta > 0 else "lowers"
        moves.append((abs(delta), f"{text} {verb} the log-odds of success by {abs(delta):.2f}"))
    moves.sort(key=lambda m: -m[0])
    return [text for _, text in moves[:limit]]
