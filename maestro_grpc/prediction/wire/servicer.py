"""PredictionService: parse and validate each request, call the domain, map the result."""

from __future__ import annotations

from collections.abc import AsyncIterator

from maestro.prediction.v1 import experiment_pb2 as ep
from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro.prediction.v1 import prediction_service_pb2_grpc
from maestro_grpc.access import caller
from maestro_grpc.errors import Violations
from maestro_grpc.paging import IdKind, KeyKind
from maestro_grpc.prediction.domain.experiments import Experiments
from maestro_grpc.prediction.domain.predictor import Predictor
from maestro_grpc.prediction.model import Experiment
from maestro_grpc.prediction.wire import convert, experiment_checks, experiment_convert, progress
from maestro_grpc.prediction.wire import validation as check
from maestro_grpc.wire import checks
from maestro_grpc.wire import pagetoken as pagination
from maestro_grpc.wire.context import Context
from maestro_grpc.wire.pagetoken import PageTokens
from maestro_grpc.wire.protoconv import (
    opt_time,
    optional_uuid_field,
    request_fingerprint,
    require_uuid,
    uuid_field,
)


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, predictor: Predictor, experiments: Experiments, pages: PageTokens) -> None:
        self.predictor = predictor
        self.experiments = experiments
        self.pages = pages

    async def warm(self) -> None:
        """Called once at start when MAESTRO_PREDICTION_WARM is on (see `lazy.py`)."""
        await self.predictor.warm()

    # ---- the meta-model ------------------------------------------------------------------

    async def TrainMetaModel(
        self, request: pb.TrainMetaModelRequest, context: Context
    ) -> AsyncIterator[pb.TrainMetaModelResponse]:
        v = Violations()
        options = check.training_options(v, request)
        v.raise_if_any()
        async for response in progress.stream(lambda report: self.predictor.train(options, report)):
            yield response

    async def GetMetaModel(
        self, request: pb.GetMetaModelRequest, context: Context
    ) -> pb.GetMetaModelResponse:
        v = Violations()
        version = check.version(v, request.version, "version")
        v.raise_if_any()
        record = await self.predictor.get_model(version)
        return pb.GetMetaModelResponse(model=convert.meta_model(record))

    async def ListMetaModels(
        self, request: pb.ListMetaModelsRequest, context: Context
    ) -> pb.ListMetaModelsResponse:
        size = pagination.page_size(request.page_size)
        after = self.pages.decode(
            "ListMetaModels", request, request.page_token, key=KeyKind.COUNT, ids=IdKind.INT
        )
        page = await self.predictor.list_models(size, after)
        return pb.ListMetaModelsResponse(
            models=[convert.meta_model(m) for m in page.items],
            next_page_token=self.pages.encode("ListMetaModels", request, page.next_cursor),
        )

    # ---- predictions ---------------------------------------------------------------------

    async def PredictSuccess(
        self, request: pb.PredictSuccessRequest, context: Context
    ) -> pb.PredictSuccessResponse:
        v = Violations()
        project_id = uuid_field(v, request.project_id, "project_id")
        version = check.version(v, request.model_version, "model_version")
        v.raise_if_any()
        record = await self.predictor.predict(project_id, version)
        return pb.PredictSuccessResponse(prediction=convert.prediction(record))

    async def ListPredictions(
        self, request: pb.ListPredictionsRequest, context: Context
    ) -> pb.ListPredictionsResponse:
        project_id = require_uuid(request.project_id, "project_id")
        size = pagination.page_size(request.page_size)
        after = self.pages.decode("ListPredictions", request, request.page_token, key=KeyKind.TIME)
        page = await self.predictor.list_predictions(project_id, size, after)
        return pb.ListPredictionsResponse(
            predictions=[convert.prediction(p) for p in page.items],
            next_page_token=self.pages.encode("ListPredictions", request, page.next_cursor),
        )

    async def RecommendTeam(
        self, request: pb.RecommendTeamRequest, context: Context
    ) -> pb.RecommendTeamResponse:
        v = Violations()
        project_id = uuid_field(v, request.project_id, "project_id")
        candidates = check.pool(v, request)
        limits = check.limits(v, request)
        max_results = check.int_in(v, request.max_results, "max_results", 3, 1, check.MAX_RESULTS)
        version = check.version(v, request.model_version, "model_version")
        v.raise_if_any()
        found = await self.predictor.recommend_team(
            project_id, candidates, limits, max_results, version
        )
        return convert.recommendation(found, project_id)

    # ---- experiments -----------------------------------------------------------------------

    async def CreateExperiment(
        self, request: pb.CreateExperimentRequest, context: Context
    ) -> pb.CreateExperimentResponse:
        v = Violations()
        fields = experiment_checks.experiment_fields(v, request)
        checks.request_id(v, request.request_id)
        v.raise_if_any()
        created = await self.experiments.create(
            fields, request_id=request.request_id, fingerprint=request_fingerprint(request)
        )
        return pb.CreateExperimentResponse(experiment=self._experiment(created))

    async def GetExperiment(
        self, request: pb.GetExperimentRequest, context: Context
    ) -> pb.GetExperimentResponse:
        experiment_id = require_uuid(request.experiment_id, "experiment_id")
        found = await self.experiments.get(experiment_id)
        return pb.GetExperimentResponse(experiment=self._experiment(found))

    async def ListExperiments(
        self, request: pb.ListExperimentsRequest, context: Context
    ) -> pb.ListExperimentsResponse:
        v = Violations()
        status = experiment_checks.status_filter(v, request.status)
        v.raise_if_any()
        size = pagination.page_size(request.page_size)
        after = self.pages.decode("ListExperiments", request, request.page_token, key=KeyKind.TIME)
        page = await self.experiments.list(size, after, status)
        return pb.ListExperimentsResponse(
            experiments=[self._experiment(e) for e in page.items],
            next_page_token=self.pages.encode("ListExperiments", request, page.next_cursor),
        )

    async def StopExperiment(
        self, request: pb.StopExperimentRequest, context: Context
    ) -> pb.StopExperimentResponse:
        experiment_id = require_uuid(request.experiment_id, "experiment_id")
        stopped = await self.experiments.stop(experiment_id)
        return pb.StopExperimentResponse(experiment=self._experiment(stopped))

    async def AssignVariant(
        self, request: pb.AssignVariantRequest, context: Context
    ) -> pb.AssignVariantResponse:
        v = Violations()
        experiment_id = uuid_field(v, request.experiment_id, "experiment_id")
        unit_id = checks.text(v, request.unit_id, "unit_id", max_len=200, required=True)
        project_id = optional_uuid_field(v, request.project_id, "project_id")
        v.raise_if_any()
        assignment = await self.experiments.assign(experiment_id, unit_id, project_id)
        return pb.AssignVariantResponse(assignment=experiment_convert.assignment(assignment))

    async def ListAssignments(
        self, request: pb.ListAssignmentsRequest, context: Context
    ) -> pb.ListAssignmentsResponse:
        v = Violations()
        experiment_id = uuid_field(v, request.experiment_id, "experiment_id")
        variant = checks.text(v, request.variant, "variant", max_len=63)
        v.raise_if_any()
        size = pagination.page_size(request.page_size)
        after = self.pages.decode("ListAssignments", request, request.page_token, key=KeyKind.TEXT)
        page = await self.experiments.assignments(
            experiment_id,
            variant=variant,
            page_size=size,
            after=after,
            within=caller.visible_projects(),
        )
        return pb.ListAssignmentsResponse(
            assignments=[experiment_convert.assignment(a) for a in page.items],
            next_page_token=self.pages.encode("ListAssignments", request, page.next_cursor),
            total_size=page.total_size or 0,
        )

    async def AnalyzeExperiment(
        self, request: pb.AnalyzeExperimentRequest, context: Context
    ) -> pb.AnalyzeExperimentResponse:
        v = Violations()
        experiment_id = uuid_field(v, request.experiment_id, "experiment_id")
        end_time = v.take(lambda: opt_time(request, "end_time", "end_time"), None)
        options = experiment_checks.analysis_options(v, request, end_time)
        v.raise_if_any()
        analysis = await self.experiments.analyze(experiment_id, options)
        return pb.AnalyzeExperimentResponse(analysis=experiment_convert.analysis(analysis))

    def _experiment(self, item: Experiment) -> ep.Experiment:
        return experiment_convert.experiment(item, self.experiments.clock())
