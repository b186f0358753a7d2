"""PredictionService: parse and validate each request, call the domain, map the result."""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
from collections.abc import AsyncIterator
from typing import Any

from maestro.prediction.v1 import experiment_pb2 as ep
from maestro.prediction.v1 import meta_model_pb2 as mp
from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro.prediction.v1 import prediction_service_pb2_grpc
from maestro.registry.v1 import project_pb2
from maestro_grpc.errors import InvalidArgument, Violations
from maestro_grpc.paging import IdKind, KeyKind
from maestro_grpc.prediction import convert
from maestro_grpc.prediction.experiments import (
    SUCCESS,
    SUCCESS_SCORE,
    ExperimentFields,
    Experiments,
    ExperimentUnit,
    Variant,
)
from maestro_grpc.prediction.features import DEFAULT_OBSERVATION_DAYS, MAX_OBSERVATION_DAYS
from maestro_grpc.prediction.service import Candidate, Predictor, TrainingOptions
from maestro_grpc.prediction.teams import Limits
from maestro_grpc.registry import validation as check
from maestro_grpc.wire import pagetoken as pagination
from maestro_grpc.wire.protoconv import opt_time, parse_uuid, request_fingerprint, require_uuid

VARIANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
METRIC_NAME = re.compile(r"^[a-z0-9_.:-]{1,200}$")
MAX_CANDIDATES = 200
MAX_TEAM = 50
MAX_RESULTS = 10
PROGRESS_STEP = 0.01


def _int_in(v: Violations, value: int, field: str, default: int, low: int, high: int) -> int:
    if value == 0:
        return default
    if not low <= value <= high:
        v.add(field, f"must be between {low} and {high} (0 for {default})")
    return value


def _version(v: Violations, value: int, field: str) -> int:
    if value < 0:
        v.add(field, "must not be negative (0 for the latest)")
    return value


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, predictor: Predictor, experiments: Experiments) -> None:
        self.predictor = predictor
        self.experiments = experiments

    # ---- the meta-model ------------------------------------------------------------------

    async def TrainMetaModel(
        self, request: pb.TrainMetaModelRequest, context: Any
    ) -> AsyncIterator[pb.TrainMetaModelResponse]:
        v = Violations()
        options = TrainingOptions(
            observation_days=_int_in(
                v,
                request.observation_days,
                "observation_days",
                DEFAULT_OBSERVATION_DAYS,
                1,
                MAX_OBSERVATION_DAYS,
            ),
            folds=_int_in(v, request.cv_folds, "cv_folds", 5, 2, 20),
            repeats=_int_in(v, request.cv_repeats, "cv_repeats", 5, 1, 50),
            seed=request.random_seed,
        )
        v.raise_if_any()
        updates: asyncio.Queue[mp.TrainingProgress] = asyncio.Queue()

        def report(stage: str, fraction: float, message: str) -> None:
            updates.put_nowait(
                mp.TrainingProgress(
                    stage=stage, fraction=min(max(fraction, 0.0), 1.0), message=message
                )
            )

        task = asyncio.create_task(self.predictor.train(options, report))
        last: mp.TrainingProgress | None = None
        try:
            while True:
                getter = asyncio.ensure_future(updates.get())
                done, _ = await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    progress = getter.result()
                    if progress.stage == "done":
                        continue
                    if (
                        last is None
                        or progress.stage != last.stage
                        or progress.fraction >= last.fraction + PROGRESS_STEP
                    ):
                        last = progress
                        yield pb.TrainMetaModelResponse(progress=progress)
                else:
                    getter.cancel()
                if task.done() and updates.empty():
                    break
            record = task.result()
            yield pb.TrainMetaModelResponse(
                progress=mp.TrainingProgress(
                    stage="done", fraction=1.0, message=f"version {record.version}"
                ),
                model=convert.meta_model(record),
            )
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def GetMetaModel(
        self, request: pb.GetMetaModelRequest, context: Any
    ) -> pb.GetMetaModelResponse:
        v = Violations()
        version = _version(v, request.version, "version")
        v.raise_if_any()
        record = await self.predictor.get_model(version)
        return pb.GetMetaModelResponse(model=convert.meta_model(record))

    async def ListMetaModels(
        self, request: pb.ListMetaModelsRequest, context: Any
    ) -> pb.ListMetaModelsResponse:
        size = pagination.page_size(request.page_size)
        after = pagination.decode(
            "ListMetaModels", request, request.page_token, key=KeyKind.COUNT, ids=IdKind.INT
        )
        page = await self.predictor.list_models(size, after)
        return pb.ListMetaModelsResponse(
            models=[convert.meta_model(m) for m in page.items],
            next_page_token=pagination.encode("ListMetaModels", request, page.next_cursor),
        )

    # ---- predictions ---------------------------------------------------------------------

    async def PredictSuccess(
        self, request: pb.PredictSuccessRequest, context: Any
    ) -> pb.PredictSuccessResponse:
        v = Violations()
        project_id = None
        try:
            project_id = require_uuid(request.project_id, "project_id")
        except InvalidArgument as error:
            v.items.extend(error.violations)
        version = _version(v, request.model_version, "model_version")
        v.raise_if_any()
        assert project_id is not None
        record = await self.predictor.predict(project_id, version)
        return pb.PredictSuccessResponse(prediction=convert.prediction(record))

    async def ListPredictions(
        self, request: pb.ListPredictionsRequest, context: Any
    ) -> pb.ListPredictionsResponse:
        project_id = require_uuid(request.project_id, "project_id")
        size = pagination.page_size(request.page_size)
        after = pagination.decode("ListPredictions", request, request.page_token, key=KeyKind.TIME)
        page = await self.predictor.list_predictions(project_id, size, after)
        return pb.ListPredictionsResponse(
            predictions=[convert.prediction(p) for p in page.items],
            next_page_token=pagination.encode("ListPredictions", request, page.next_cursor),
        )

    async def RecommendTeam(
        self, request: pb.RecommendTeamRequest, context: Any
    ) -> pb.RecommendTeamResponse:
        v = Violations()
        project_id = None
        try:
            project_id = require_uuid(request.project_id, "project_id")
        except InvalidArgument as error:
            v.items.extend(error.violations)
        candidates = self._candidates(v, request.candidates)
        limits = self._limits(v, request)
        max_results = _int_in(v, request.max_results, "max_results", 3, 1, MAX_RESULTS)
        version = _version(v, request.model_version, "model_version")
        v.raise_if_any()
        assert project_id is not None
        assert limits is not None
        found = await self.predictor.recommend_team(
            project_id, candidates, limits, max_results, version
        )
        return pb.RecommendTeamResponse(
            current_team=convert.proposal(found.current, project_id),
            proposals=[convert.proposal(p, project_id) for p in found.proposals],
            model_version=found.model_version,
        )

    @staticmethod
    def _candidates(v: Violations, items: Any) -> list[Candidate]:
        if not items:
            v.add("candidates", "is required (1-200 people)")
        elif len(items) > MAX_CANDIDATES:
            v.add("candidates", f"has more than {MAX_CANDIDATES} people")
        out: list[Candidate] = []
        seen: set[str] = set()
        for i, c in enumerate(items):
            at = f"candidates[{i}]"
            person = check.text(v, c.person_id, f"{at}.person_id", max_len=200, required=True)
            if person and person in seen:
                v.add(f"{at}.person_id", f"{person!r} is listed twice")
            seen.add(person)
            name = check.text(v, c.display_name, f"{at}.display_name", max_len=200)
            role = ""
            try:
                role_name = project_pb2.TeamRole.Name(c.role)
                if c.role == 0:
                    v.add(f"{at}.role", "is required (UNSPECIFIED given)")
                else:
                    role = role_name.removeprefix("TEAM_ROLE_").lower()
            except ValueError:
                v.add(f"{at}.role", f"{c.role} is not a known value")
            years = check.number(v, c.years_experience, f"{at}.years_experience", low=0, high=70)
            skills = check.skills(v, c.skills, f"{at}.skills")
            availability = c.availability or 1.0
            check.number(v, availability, f"{at}.availability", low=0.0, high=1.0, low_open=True)
            out.append(
                Candidate(
                    person_id=person,
                    display_name=name,
                    role=role,
                    years_experience=years,
                    skills=frozenset(skills),
                    availability=availability,
                )
            )
        return out

    @staticmethod
    def _limits(v: Violations, request: pb.RecommendTeamRequest) -> Limits | None:
        if not request.HasField("limits"):
            v.add("limits", "is required")
            return None
        limits = request.limits
        max_size = limits.max_size
        if not 1 <= max_size <= MAX_TEAM:
            v.add("limits.max_size", f"is required: between 1 and {MAX_TEAM}")
        min_size = limits.min_size or 1
        if min_size < 1:
            v.add("limits.min_size", "must not be negative (0 for 1)")
        elif 1 <= max_size <= MAX_TEAM and min_size > max_size:
            v.add("limits.min_size", "must not exceed limits.max_size")
        budget = limits.max_total_allocation
        if not math.isfinite(budget) or budget < 0:
            v.add("limits.max_total_allocation", "must be a finite number, at least 0 (0: none)")
        return Limits(min_size=min_size, max_size=max_size, max_total_allocation=budget or None)

    # ---- experiments -----------------------------------------------------------------------

    async def CreateExperiment(
        self, request: pb.CreateExperimentRequest, context: Any
    ) -> pb.CreateExperimentResponse:
        v = Violations()
        if not request.HasField("experiment"):
            v.add("experiment", "is required")
        e = request.experiment
        name = check.text(v, e.name, "experiment.name", max_len=200, required=True)
        description = check.text(v, e.description, "experiment.description", max_len=10_000)
        unit = ExperimentUnit.PROJECT
        if e.unit == ep.EXPERIMENT_UNIT_TEAM:
            unit = ExperimentUnit.TEAM
        elif e.unit not in (ep.EXPERIMENT_UNIT_UNSPECIFIED, ep.EXPERIMENT_UNIT_PROJECT):
            v.add("experiment.unit", f"{e.unit} is not a known value")
        variants: list[Variant] = []
        if not 2 <= len(e.variants) <= 10:
            v.add("experiment.variants", "must hold 2 to 10 variants (the first is the control)")
        names: set[str] = set()
        for i, variant in enumerate(e.variants):
            at = f"experiment.variants[{i}]"
            if not VARIANT_NAME.match(variant.name):
                v.add(
                    f"{at}.name",
                    "must be 1-63 characters of [a-z0-9_-], starting with a letter or digit",
                )
            elif variant.name in names:
                v.add(f"{at}.name", f"{variant.name!r} is used twice")
            names.add(variant.name)
            if not math.isfinite(variant.weight) or variant.weight <= 0:
                v.add(f"{at}.weight", "must be a positive finite number")
            variants.append(Variant(variant.name, variant.weight))
        metric = e.outcome_metric.strip()
        if not metric:
            v.add(
                "experiment.outcome_metric",
                f'is required: "{SUCCESS}", "{SUCCESS_SCORE}" or a metric name',
            )
        elif not METRIC_NAME.match(metric):
            v.add("experiment.outcome_metric", "must be 1-200 characters of [a-z0-9_.:-]")
        salt = check.text(v, e.salt, "experiment.salt", max_len=100)
        check.request_id(v, request.request_id)
        v.raise_if_any()
        created = await self.experiments.create(
            ExperimentFields(
                name=name,
                description=description,
                unit=unit,
                variants=tuple(variants),
                outcome_metric=metric,
                salt=salt,
            ),
            request_id=request.request_id,
            fingerprint=request_fingerprint(request),
        )
        return pb.CreateExperimentResponse(experiment=convert.experiment(created))

    async def GetExperiment(
        self, request: pb.GetExperimentRequest, context: Any
    ) -> pb.GetExperimentResponse:
        experiment_id = require_uuid(request.experiment_id, "experiment_id")
        found = await self.experiments.get(experiment_id)
        return pb.GetExperimentResponse(experiment=convert.experiment(found))

    async def AssignVariant(
        self, request: pb.AssignVariantRequest, context: Any
    ) -> pb.AssignVariantResponse:
        v = Violations()
        experiment_id = project_id = None
        try:
            experiment_id = require_uuid(request.experiment_id, "experiment_id")
        except InvalidArgument as error:
            v.items.extend(error.violations)
        unit_id = check.text(v, request.unit_id, "unit_id", max_len=200, required=True)
        try:
            project_id = parse_uuid(request.project_id, "project_id", required=False)
        except InvalidArgument as error:
            v.items.extend(error.violations)
        v.raise_if_any()
        assert experiment_id is not None
        assignment = await self.experiments.assign(experiment_id, unit_id, project_id)
        return pb.AssignVariantResponse(assignment=convert.assignment(assignment))

    async def AnalyzeExperiment(
        self, request: pb.AnalyzeExperimentRequest, context: Any
    ) -> pb.AnalyzeExperimentResponse:
        v = Violations()
        experiment_id = None
        try:
            experiment_id = require_uuid(request.experiment_id, "experiment_id")
        except InvalidArgument as error:
            v.items.extend(error.violations)
        level = request.confidence_level or 0.95
        if not math.isfinite(level) or not 0.5 <= level <= 0.999:
            v.add("confidence_level", "must be between 0.5 and 0.999 (0 for 0.95)")
        end_time = None
        try:
            end_time = opt_time(request, "end_time", "end_time")
        except InvalidArgument as error:
            v.items.extend(error.violations)
        v.raise_if_any()
        assert experiment_id is not None
        analysis = await self.experiments.analyze(experiment_id, level, end_time)
        return pb.AnalyzeExperimentResponse(analysis=convert.analysis(analysis))
