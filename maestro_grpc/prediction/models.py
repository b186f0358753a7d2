"""Meta-model versions and predictions in the store; the in-memory cache of loaded versions.

Every replica asks the store for the newest version number on each call
that needs "the latest" (one indexed MAX), and loads a version it has not
seen yet, so a model trained on one replica is used by all of them at once,
without a restart or a message between them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.clock import Clock, from_micros, to_micros, utcnow
from maestro_grpc.errors import DataLoss, FailedPrecondition, InvalidArgument, NotFound
from maestro_grpc.paging import Cursor, Page
from maestro_grpc.prediction.explain import Contribution, Explanation, FeatureRange, LoadedModel
from maestro_grpc.prediction.store.tables import meta_models, predictions
from maestro_grpc.prediction.training import ModelKind, TrainingOutcome
from maestro_grpc.registry.store.tables import projects
from maestro_grpc.store.db import Database

CACHE_SIZE = 4


@dataclass(frozen=True)
class RealisedScores:
    projects: int = 0
    roc_auc: float = 0.0
    brier: float = 0.0
    accuracy: float = 0.0


@dataclass(frozen=True)
class MetaModelRecord:
    version: int
    kind: ModelKind
    observation_days: int
    training_set_size: int
    positive_count: int
    details: dict[str, Any]
    mlflow_run_id: str
    mlflow_model_uri: str
    create_time: datetime
    realised: RealisedScores = field(default_factory=RealisedScores)

    @property
    def features(self) -> list[dict[str, Any]]:
        return list(self.details["features"])


@dataclass(frozen=True)
class PredictionRecord:
    id: uuid.UUID
    project_id: uuid.UUID
    model_version: int
    probability: float
    base_log_odds: float
    contributions: list[Contribution]
    extrapolation_reasons: list[str]
    observation_end_time: datetime
    create_time: datetime

    @property
    def extrapolation(self) -> bool:
        return bool(self.extrapolation_reasons)


def _record(row: Any, realised: RealisedScores | None = None) -> MetaModelRecord:
    return MetaModelRecord(
        version=row.version,
        kind=ModelKind(row.kind),
        observation_days=row.observation_days,
        training_set_size=row.training_set_size,
        positive_count=row.positive_count,
        details=dict(row.details),
        mlflow_run_id=row.mlflow_run_id,
        mlflow_model_uri=row.mlflow_model_uri,
        create_time=row.create_time,
        realised=realised or RealisedScores(),
    )


def _prediction(row: Any) -> PredictionRecord:
    return PredictionRecord(
        id=row.id,
        project_id=row.project_id,
        model_version=row.model_version,
        probability=row.probability,
        base_log_odds=row.base_log_odds,
        contributions=[
            Contribution(
                feature=c["feature"],
                value=float(c["value"]),
                missing=bool(c["missing"]),
                contribution=float(c["contribution"]),
            )
            for c in row.contributions
        ],
        extrapolation_reasons=list(row.extrapolation_reasons),
        observation_end_time=row.observation_end_time,
        create_time=row.create_time,
    )


_SUMMARY = [c for c in meta_models.c if c.name != "model"]


class ModelStore:
    """Versions in the store, and the loaded ones in memory."""

    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock
        self._loaded: OrderedDict[int, LoadedModel] = OrderedDict()
        self._loading: dict[int, asyncio.Future[LoadedModel]] = {}

    # ---- versions --------------------------------------------------------------------

    async def insert(self, outcome: TrainingOutcome, input_names: list[str]) -> MetaModelRecord:
        """Store a trained model as the next version (retried if another replica took it)."""
        details = {
            "input_names": input_names,
            "features": [f.as_dict() for f in outcome.features],
            "cv_scores": outcome.cv_scores.as_dict(),
            "candidates": [
                {"kind": kind.value, "cv_scores": scores.as_dict()}
                for kind, scores in outcome.candidates
            ],
        }
        for _ in range(5):
            try:
                async with self.db.write() as conn:
                    current = (
                        await conn.execute(select(func.max(meta_models.c.version)))
                    ).scalar_one()
                    version = int(current or 0) + 1
                    await conn.execute(
                        meta_models.insert().values(
                            version=version,
                            kind=outcome.kind.value,
                            observation_days=outcome.observation_days,
                            training_set_size=outcome.training_set_size,
                            positive_count=outcome.positive_count,
                            details=details,
                            model=outcome.model_bytes,
                            mlflow_run_id=outcome.mlflow_run_id,
                            mlflow_model_uri=outcome.mlflow_model_uri,
                            create_time=self.clock(),
                        )
                    )
                    row = (
                        await conn.execute(
                            select(*_SUMMARY).where(meta_models.c.version == version)
                        )
                    ).one()
                    return _record(row)
            except IntegrityError:
                continue
        raise FailedPrecondition(  # pragma: no cover - five concurrent trainings in a row
            "could not number the new model version: too many concurrent trainings; retry",
            reason="VERSION_CONFLICT",
        )

    async def latest_version(self, conn: AsyncConnection) -> int | None:
        value = (await conn.execute(select(func.max(meta_models.c.version)))).scalar_one()
        return None if value is None else int(value)

    async def resolve(self, conn: AsyncConnection, version: int) -> int:
        """The version asked for (0: the latest); FAILED_PRECONDITION when there is none."""
        if version == 0:
            latest = await self.latest_version(conn)
            if latest is None:
                raise FailedPrecondition(
                    "no meta-model has been trained yet: call TrainMetaModel first",
                    reason="NO_MODEL",
                )
            return latest
        return version

    async def get(self, version: int) -> MetaModelRecord:
        async with self.db.read() as conn:
            version = await self.resolve(conn, version)
            row = (
                await conn.execute(select(*_SUMMARY).where(meta_models.c.version == version))
            ).first()
            if row is None:
                raise NotFound(f"meta-model version {version} not found", reason="MODEL_NOT_FOUND")
            realised = await self._realised(conn, version)
        return _record(row, realised)

    async def list(self, page_size: int, after: Cursor | None) -> Page[MetaModelRecord]:
        query = select(*_SUMMARY).order_by(meta_models.c.version.desc()).limit(page_size + 1)
        if after is not None:
            query = query.where(meta_models.c.version < int(after.key))
        async with self.db.read() as conn:
            rows = list(await conn.execute(query))
            items = [
                _record(row, await self._realised(conn, row.version)) for row in rows[:page_size]
            ]
        next_cursor = None
        if len(rows) > page_size:
            last = items[-1]
            next_cursor = Cursor(key=last.version, id=str(last.version))
        return Page(items=items, next_cursor=next_cursor)

    async def _realised(self, conn: AsyncConnection, version: int) -> RealisedScores:
        """Scores of `version` on outcomes recorded after it predicted them."""
        rows = await conn.execute(
            select(
                predictions.c.project_id,
                predictions.c.probability,
                projects.c.success_succeeded,
            )
            .select_from(predictions.join(projects, projects.c.id == predictions.c.project_id))
            .where(
                predictions.c.model_version == version,
                projects.c.success_record_time.is_not(None),
                predictions.c.create_time < projects.c.success_record_time,
            )
            .order_by(predictions.c.project_id, predictions.c.create_time, predictions.c.id)
        )
        latest: dict[uuid.UUID, tuple[float, bool]] = {}
        for row in rows:
            latest[row.project_id] = (float(row.probability), bool(row.success_succeeded))
        if not latest:
            return RealisedScores()
        p = np.array([v[0] for v in latest.values()])
        y = np.array([1 if v[1] else 0 for v in latest.values()])
        auc = float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else 0.0
        return RealisedScores(
            projects=len(latest),
            roc_auc=auc,
            brier=float(np.mean((p - y) ** 2)),
            accuracy=float(np.mean((p >= 0.5) == (y == 1))),
        )

    # ---- loading ---------------------------------------------------------------------

    async def load(self, conn: AsyncConnection, version: int) -> LoadedModel:
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
            model = await self._read(conn, version)
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

    async def _read(self, conn: AsyncConnection, version: int) -> LoadedModel:
        row = (
            await conn.execute(select(meta_models).where(meta_models.c.version == version))
        ).first()
        if row is None:
            raise NotFound(f"meta-model version {version} not found", reason="MODEL_NOT_FOUND")
        ranges = [
            FeatureRange(
                name=f["name"],
                low=float(f["training_min"]),
                high=float(f["training_max"]),
                missing_fraction=float(f["missing_fraction"]),
            )
            for f in row.details["features"]
        ]
        try:
            # Deserialising a large tree ensemble takes a while: not on the loop.
            return await asyncio.to_thread(
                LoadedModel,
                row.version,
                ModelKind(row.kind),
                row.observation_days,
                list(row.details["input_names"]),
                ranges,
                bytes(row.model),
            )
        except Exception as error:
            raise DataLoss(
                f"meta-model version {version} is stored but cannot be loaded ({error}); "
                "train a new version",
                reason="MODEL_UNREADABLE",
            ) from error

    # ---- predictions -----------------------------------------------------------------

    async def save_prediction(
        self,
        conn: AsyncConnection,
        project_id: uuid.UUID,
        version: int,
        explanation: Explanation,
        observation_end_time: datetime,
    ) -> PredictionRecord:
        record = PredictionRecord(
            id=uuid.uuid4(),
            project_id=project_id,
            model_version=version,
            probability=explanation.probability,
            base_log_odds=explanation.base_log_odds,
            contributions=explanation.contributions,
            extrapolation_reasons=explanation.extrapolation_reasons,
            observation_end_time=observation_end_time,
            create_time=self.clock(),
        )
        await conn.execute(
            predictions.insert().values(
                id=record.id,
                project_id=project_id,
                model_version=version,
                probability=record.probability,
                base_log_odds=record.base_log_odds,
                contributions=[
                    {
                        "feature": c.feature,
                        "value": c.value,
                        "missing": c.missing,
                        "contribution": c.contribution,
                    }
                    for c in record.contributions
                ],
                extrapolation=record.extrapolation,
                extrapolation_reasons=record.extrapolation_reasons,
                observation_end_time=observation_end_time,
                create_time=record.create_time,
            )
        )
        return record

    async def list_predictions(
        self, project_id: uuid.UUID, page_size: int, after: Cursor | None
    ) -> Page[PredictionRecord]:
        query = select(predictions).where(predictions.c.project_id == project_id)
        if after is not None:
            key_time = from_micros(int(after.key))
            try:
                key_id = uuid.UUID(after.id)
            except ValueError:
                raise InvalidArgument.for_field(
                    "page_token", "is not a page token of this API"
                ) from None
            query = query.where(
                or_(
                    predictions.c.create_time < key_time,
                    and_(predictions.c.create_time == key_time, predictions.c.id < key_id),
                )
            )
        query = query.order_by(predictions.c.create_time.desc(), predictions.c.id.desc()).limit(
            page_size + 1
        )
        async with self.db.read() as conn:
            exists = (
                await conn.execute(select(projects.c.id).where(projects.c.id == project_id))
            ).first()
            if exists is None:
                raise NotFound(f"project {project_id} not found", reason="PROJECT_NOT_FOUND")
            rows = list(await conn.execute(query))
        items = [_prediction(r) for r in rows[:page_size]]
        next_cursor = None
        if len(rows) > page_size:
            last = items[-1]
            next_cursor = Cursor(key=to_micros(last.create_time), id=str(last.id))
        return Page(items=items, next_cursor=next_cursor)
