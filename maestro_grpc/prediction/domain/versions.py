"""Meta-model versions as the domain sees them: the latest, the loaded ones, realised scores.

Every replica asks the store for the newest version number on each call
that needs "the latest" (one indexed MAX), and loads a version it has not
seen yet from the store: a version trained on one replica is used by all
the others at once, with no restart, no cache to invalidate, and no
message between them. Loaded versions stay in memory (the few most
recently used); concurrent callers of a version not loaded yet share one
load.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

import numpy as np
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

from maestro_grpc.errors import DataLoss, FailedPrecondition, NotFound
from maestro_grpc.paging import Cursor, Page
from maestro_grpc.prediction.domain.explain import LoadedModel
from maestro_grpc.prediction.model import (
    MetaModelRecord,
    RealisedScores,
    TrainingOutcome,
    TrainingSetReport,
)
from maestro_grpc.prediction.store.metamodels import MetaModelStore
from maestro_grpc.prediction.store.predictions import PredictionStore
from maestro_grpc.registry.read import RegistryReader

CACHE_SIZE = 4


def _no_model() -> FailedPrecondition:
    return FailedPrecondition(
        "no meta-model has been trained yet: call TrainMetaModel first", reason="NO_MODEL"
    )


def _not_found(version: int) -> NotFound:
    return NotFound(f"meta-model version {version} not found", reason="MODEL_NOT_FOUND")


class ModelVersions:
    """Versions in the store, and the loaded ones in memory."""

    def __init__(
        self, store: MetaModelStore, predictions: PredictionStore, registry: RegistryReader
    ) -> None:
        self.store = store
        self.predictions = predictions
        self.registry = registry
        self._loaded: OrderedDict[int, LoadedModel] = OrderedDict()
        self._loading: dict[int, asyncio.Future[LoadedModel]] = {}

    # ---- summaries -------------------------------------------------------------------

    async def add(
        self,
        outcome: TrainingOutcome,
        now: datetime,
        report: TrainingSetReport | None = None,
        serve_without_skill: bool = False,
    ) -> MetaModelRecord:
        """Store a trained model as the next version (serving by default unless it lacks skill)."""
        no_skill = outcome.validation is not None and outcome.validation.no_skill
        return await self.store.insert(
            outcome,
            outcome.input_names,
            now,
            report=report,
            serves_by_default=serve_without_skill or not no_skill,
        )

    async def resolve(self, version: int, or_newest: bool = False) -> int:
        """The version asked for (0: the newest serving by default); FAILED_PRECONDITION
        when there is none, unless `or_newest` (RecommendTeam, which ranks by skill
        coverage when the model has no skill) takes the newest version then."""
        if version != 0:
            return version
        serving = await self.store.latest_version(serving=True)
        if serving is not None:
            return serving
        latest = await self.store.latest_version()
        if latest is None:
            raise _no_model()
        if or_newest:
            return latest
        raise FailedPrecondition(
            f"no meta-model version serves by default: the newest, {latest}, has no skill "
            "(see its verdict in GetMetaModel); ask for it by model_version to use it anyway, "
            "or train on more or other projects",
            reason="NO_SKILLED_MODEL",
        )

    async def get(self, version: int) -> MetaModelRecord:
        """A version's summary (0: the latest), with its realised scores."""
        record = await self.store.summary(version or None)
        if record is None:
            raise _no_model() if version == 0 else _not_found(version)
        realised = await self.realised([record.version])
        return replace(record, realised=realised[record.version])

    async def page(self, page_size: int, after: Cursor | None) -> Page[MetaModelRecord]:
        """Summaries, newest first, each with its realised scores."""
        page = await self.store.page(page_size, after)
        realised = await self.realised([m.version for m in page.items])
        items = [replace(m, realised=realised[m.version]) for m in page.items]
        return Page(items=items, next_cursor=page.next_cursor)

    async def realised(self, versions: Collection[int]) -> dict[int, RealisedScores]:
        """Each version's scores on the outcomes recorded after it predicted them.

        A project counts once per version, with the last prediction that
        version made of it before its outcome was recorded.
        """
        past = await self.predictions.past(versions)
        if not past:
            return {v: RealisedScores() for v in versions}
        recorded: dict[uuid.UUID, tuple[datetime, bool]] = {
            project.id: (project.success_record_time, bool(project.succeeded))
            for project in await self.registry.projects({made.project_id for made in past})
            if project.success_record_time is not None
        }
        latest: dict[int, dict[uuid.UUID, tuple[float, bool]]] = {v: {} for v in versions}
        for made in past:
            outcome = recorded.get(made.project_id)
            if outcome is not None and made.create_time < outcome[0]:
                latest[made.model_version][made.project_id] = (made.probability, outcome[1])
        return {v: _scores(list(latest[v].values())) for v in versions}

    # ---- loading ---------------------------------------------------------------------

    async def load(self, version: int) -> LoadedModel:
        """The loaded model of `version` (from memory, else from the store)."""
        cached = self._loaded.get(version)
        if cached is not None:
            self._loaded.move_to_end(version)
            return cached
        pending = self._loading.get(version)
        if pending is not None:
            return await asyncio.shield(pending)
        # Claimed before the first await: concurrent callers wait for this load.
        future: asyncio.Future[LoadedModel] = asyncio.get_running_loop().create_future()
        self._loading[version] = future
        try:
            model = await self._read(version)
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # the waiters see it; nobody else must
            raise
        finally:
            self._loading.pop(version, None)
        future.set_result(model)
        self._loaded[version] = model
        while len(self._loaded) > CACHE_SIZE:
            self._loaded.popitem(last=False)
        return model

    async def _read(self, version: int) -> LoadedModel:
        stored = await self.store.stored(version)
        if stored is None:
            raise _not_found(version)
        try:
            # Deserialising a large tree ensemble takes a while: not on the loop.
            return await asyncio.to_thread(LoadedModel.of, stored)
        except Exception as error:
            raise DataLoss(
                f"meta-model version {version} is stored but cannot be loaded ({error}); "
                "train a new version",
                reason="MODEL_UNREADABLE",
            ) from error


def _scores(outcomes: list[tuple[float, bool]]) -> RealisedScores:
    if not outcomes:
        return RealisedScores()
    p = np.array([probability for probability, _ in outcomes])
    y = np.array([1 if succeeded else 0 for _, succeeded in outcomes])
    auc = float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else 0.0
    return RealisedScores(
        projects=len(outcomes),
        roc_auc=auc,
        brier=float(np.mean((p - y) ** 2)),
        accuracy=float(np.mean((p >= 0.5) == (y == 1))),
    )
