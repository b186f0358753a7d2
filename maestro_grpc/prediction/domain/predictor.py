"""What the PredictionService does for the meta-model: train, predict, explain, staff.

Plain Python over the context's stores and the other contexts' read APIs;
CPU-heavy work (fitting, deserialising, the team search) runs off the event
loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.errors import FailedPrecondition, NotFound, Unavailable
from maestro_grpc.paging import Cursor, Page
from maestro_grpc.prediction.domain import availability, collect, pool, skill, staffing, teams
from maestro_grpc.prediction.domain.estimator import ready_to_load
from maestro_grpc.prediction.domain.explain import LoadedModel
from maestro_grpc.prediction.domain.features import compute
from maestro_grpc.prediction.domain.observe import FeatureReader, load_projects
from maestro_grpc.prediction.domain.runner import TrainingRunner
from maestro_grpc.prediction.domain.tracking import tag_version
from maestro_grpc.prediction.domain.trainset import (
    TrackingFailed,
    TrainingError,
    TrainingJob,
    TrainingSet,
    check_trainable,
)
from maestro_grpc.prediction.domain.versions import ModelVersions
from maestro_grpc.prediction.domain.window import Features, ProjectRecord, Window, window_for
from maestro_grpc.prediction.model import (
    Candidate,
    DirectoryPool,
    Limits,
    MetaModelRecord,
    MoveAlert,
    PredictionRecord,
    Recommendation,
    Report,
    TrackingTarget,
    TrainingOptions,
    TrainingSetReport,
)
from maestro_grpc.prediction.store.predictions import PredictionStore

log = logging.getLogger("maestro.prediction")


class TrainingObserver(Protocol):
    """Told of every training run as it starts and ends (the Prometheus figures)."""

    def started(self) -> None: ...

    def ended(self, outcome: str, seconds: float, record: MetaModelRecord | None) -> None:
        """`outcome`: ok, not_trainable, tracking_unavailable, cancelled or error."""


class Predictor:
    """The meta-model's operations, independent of gRPC."""

    def __init__(
        self,
        versions: ModelVersions,
        predictions: PredictionStore,
        reader: FeatureReader,
        runner: TrainingRunner,
        tracking: TrackingTarget | None,
        *,
        clock: Clock = utcnow,
        observer: TrainingObserver | None = None,
        moves: MoveAlert | None = None,
    ) -> None:
        self.moves = moves
        self.observer = observer
        self.versions = versions
        self.predictions = predictions
        self.reader = reader
        self.registry = reader.registry
        self.people = reader.people
        self.runner = runner
        self.tracking = tracking
        self.clock = clock

    # ---- training ----------------------------------------------------------------------

    async def training_set(
        self, options: TrainingOptions, report: Report
    ) -> tuple[TrainingSet, TrainingSetReport]:
        """The eligible projects' features and outcomes, and which were considered and left out."""
        return await collect.training_set(self.reader, options, self.clock(), report)

    async def train(self, options: TrainingOptions, report: Report) -> MetaModelRecord:
        """Fit, score and store a new version (told to the observer, however it ends)."""
        if self.observer is None:
            return await self._train(options, report)
        self.observer.started()
        started, outcome, record = time.monotonic(), "error", None
        try:
            record = await self._train(options, report)
            outcome = "ok"
            return record
        except FailedPrecondition:
            outcome = "not_trainable"
            raise
        except Unavailable:
            outcome = "tracking_unavailable"
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            self.observer.ended(outcome, time.monotonic() - started, record)

    async def _train(self, options: TrainingOptions, report: Report) -> MetaModelRecord:
        ts, counted = await self.training_set(options, report)
        try:
            check_trainable(ts, options.folds, counted)
        except TrainingError as error:
            raise FailedPrecondition(str(error), reason="NOT_TRAINABLE") from None
        job = TrainingJob(
            job_id=uuid.uuid4().hex,
            training_set=ts,
            folds=options.folds,
            repeats=options.repeats,
            seed=options.seed,
            tracking=self.tracking,
            serve_without_skill=options.serve_without_skill,
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
        record = await self.versions.add(
            outcome, self.clock(), counted, options.serve_without_skill
        )
        if self.tracking is not None and record.mlflow_run_id:
            try:
                await self.runner.call(
                    tag_version, self.tracking, record.mlflow_run_id, record.version
                )
            except Exception:  # pragma: no cover - a tag is a convenience, not the record
                log.warning("could not tag MLflow run %s", record.mlflow_run_id, exc_info=True)
        # Loaded before the call reports done: the first prediction finds it in memory.
        await self.versions.load(record.version)
        report("done", 1.0, f"version {record.version}")
        return record

    async def warm(self) -> None:
        """Get the training worker ready now (imports, fold workers, the MLflow store),
        and the loading of a version here: a training loads its version before it
        reports done, and a first prediction loads one too."""
        await asyncio.gather(self.runner.warm(self.tracking), asyncio.to_thread(ready_to_load))

    # ---- models ------------------------------------------------------------------------

    async def get_model(self, version: int) -> MetaModelRecord:
        return await self.versions.get(version)

    async def list_models(self, page_size: int, after: Cursor | None) -> Page[MetaModelRecord]:
        return await self.versions.page(page_size, after)

    # ---- prediction ----------------------------------------------------------------------

    async def _model(self, version: int, or_newest: bool = False) -> LoadedModel:
        return await self.versions.load(await self.versions.resolve(version, or_newest))

    async def _observe(
        self, project_id: uuid.UUID, loading: Awaitable[LoadedModel]
    ) -> tuple[LoadedModel, ProjectRecord, Window, Features]:
        """The model `loading` gives and the project's features as it sees them.

        The model and the project are read at once; when both fail, the
        model's error is the one raised (no model: FAILED_PRECONDITION before
        NOT_FOUND), as when they were read one after the other.
        """
        model, found = await asyncio.gather(
            loading, load_projects(self.registry, [project_id]), return_exceptions=True
        )
        if isinstance(model, BaseException):
            raise model
        if isinstance(found, BaseException):
            raise found
        if not found:
            raise NotFound(f"project {project_id} not found", reason="PROJECT_NOT_FOUND")
        project = found[0]
        window = window_for(project.start, model.observation_days, self.clock())
        observed = await self.reader.observe([(project, window)])
        return model, project, window, compute(project, window, observed[0])

    async def predict(self, project_id: uuid.UUID, version: int) -> PredictionRecord:
        observing = self._observe(project_id, self._model(version))
        # Only the feed needs the previous figure: read it (beside the features)
        # only when one is wired.
        before = None
        if self.moves is None:
            model, _, window, features = await observing
        else:
            (model, _, window, features), before = await asyncio.gather(
                observing, self.predictions.latest_probability(project_id)
            )
        explanation = model.explain(features, window.complete)
        record = PredictionRecord(
            id=uuid.uuid4(),
            project_id=project_id,
            model_version=model.version,
            probability=explanation.probability,
            base_log_odds=explanation.base_log_odds,
            contributions=explanation.contributions,
            extrapolation_reasons=explanation.extrapolation_reasons,
            observation_end_time=window.observed_end,
            create_time=self.clock(),
            no_skill=model.no_skill,
            warnings=[model.verdict] if model.no_skill else [],
        )
        notes = self._moved(record, before)
        await self.predictions.insert(record, notes)
        if notes and self.moves is not None:
            try:
                await self.moves.relay()
            except Exception as error:  # the feed's trouble is not the prediction's
                log.warning("could not tell followers of a prediction yet: %s", error)
        return record

    def _moved(self, record: PredictionRecord, before: float | None) -> list[dict[str, Any]]:
        """The feed's note when the prediction moved enough since the last (stored with it)."""
        if self.moves is None or before is None:
            return []
        if abs(record.probability - before) < self.moves.threshold:
            return []
        actor = self.moves.actor()
        return [
            {
                "project_id": str(record.project_id),
                "before": before,
                "now": record.probability,
                "key": f"prediction:{record.id}",
                "actor_person_id": str(actor) if actor else None,
            }
        ]

    async def list_predictions(
        self, project_id: uuid.UUID, page_size: int, after: Cursor | None
    ) -> Page[PredictionRecord]:
        if not await self.registry.project_exists(project_id):
            raise NotFound(f"project {project_id} not found", reason="PROJECT_NOT_FOUND")
        return await self.predictions.page(project_id, page_size, after)

    # ---- team recommendation -------------------------------------------------------------------

    async def recommend_team(
        self,
        project_id: uuid.UUID,
        candidates: Sequence[Candidate] | DirectoryPool,
        limits: Limits,
        max_results: int,
        version: int,
    ) -> Recommendation:
        """The best teams from the caller's candidates or the directory's (`DirectoryPool`)."""
        # A version without skill still ranks teams (by coverage and experience,
        # saying so), so version 0 falls back to the newest one when none serves.
        model, project, window, features = await self._observe(
            project_id, self._model(version, or_newest=True)
        )
        summary = await self.versions.store.summary(model.version)
        judged = skill.judge(
            model.no_skill, model.verdict, summary.details if summary is not None else {}
        )
        team = await self.registry.team_members([project_id])
        current = staffing.current_team(team.get(project_id, []))
        busy = await self.registry.current_memberships(exclude=project_id)
        drawn, persons = await self._pool(candidates)
        kept, changes = availability.cap(drawn, busy, persons)
        teams.check_limits([c.availability for c in kept], limits, left_out=len(changes))
        found = await asyncio.to_thread(
            staffing.recommend,
            staffing.Staffing(model, project, window, features, judged),
            kept,
            current,
            limits,
            max_results,
        )
        return replace(found, availability=changes)

    async def _pool(
        self, given: Sequence[Candidate] | DirectoryPool
    ) -> tuple[list[Candidate], dict[str, uuid.UUID]]:
        """The candidates, and the directory's person behind each that names one."""
        if self.people is None:
            if isinstance(given, DirectoryPool):
                raise FailedPrecondition(
                    "this server has no people directory", reason="NO_DIRECTORY"
                )
            return list(given), {}
        if isinstance(given, DirectoryPool):
            drawn = await pool.from_directory(self.people, self.registry, given)
            if not drawn:
                raise FailedPrecondition(
                    "no active person of the directory has every skill of directory_pool.skills",
                    reason="NO_FEASIBLE_TEAM",
                )
            return drawn, {c.person_id: uuid.UUID(c.person_id) for c in drawn}
        return list(given), await pool.persons_of(self.people, given)
