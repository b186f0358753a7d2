"""Meta-model versions in the store: numbering, summaries, pages, the stored estimator."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from maestro_grpc import audit
from maestro_grpc.errors import DataLoss, FailedPrecondition
from maestro_grpc.paging import Cursor, IdKind, KeyKind, Page
from maestro_grpc.prediction.model import (
    FeatureRange,
    MetaModelRecord,
    ModelKind,
    StoredModel,
    TrainingOutcome,
    TrainingSetReport,
)
from maestro_grpc.prediction.store.tables import meta_models
from maestro_grpc.store.db import Database
from maestro_grpc.store.keyset import Keyset

# Every column but the estimator: what a summary needs.
_SUMMARY = [c for c in meta_models.c if c.name != "model"]
_NEWEST_FIRST = Keyset(
    key=meta_models.c.version,
    id=meta_models.c.version,
    key_kind=KeyKind.COUNT,
    id_kind=IdKind.INT,
    descending=True,
)
NUMBERING_ATTEMPTS = 5
# Read on every prediction (which version serves): built once, so SQLAlchemy
# keys them once (see registry/store/read.py).
_NEWEST = select(func.max(meta_models.c.version))
_NEWEST_SERVING = _NEWEST.where(meta_models.c.serves_by_default.is_(True))


def _record(row: Any) -> MetaModelRecord:
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
        serves_by_default=bool(row.serves_by_default),
    )


def _json_safe(value: Any) -> Any:
    """NaN and infinities (a score that does not exist) as null: JSONB refuses them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _details(
    outcome: TrainingOutcome, input_names: list[str], report: TrainingSetReport | None
) -> dict[str, Any]:
    """What GetMetaModel shows beside the estimator, and what prediction needs of it."""
    details: dict[str, Any] = _json_safe(
        {
            "input_names": input_names,
            "features": [f.as_dict() for f in outcome.features],
            "cv_scores": outcome.cv_scores.as_dict(),
            "candidates": [c.as_dict() for c in outcome.candidates],
            "candidate": outcome.candidate,
            "validation": None if outcome.validation is None else outcome.validation.as_dict(),
            "training_set": None if report is None else report.as_dict(),
        }
    )
    return details


class MetaModelStore:
    """The `meta_models` table: one row per version, numbered from 1."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(
        self,
        outcome: TrainingOutcome,
        input_names: list[str],
        now: datetime,
        *,
        report: TrainingSetReport | None = None,
        serves_by_default: bool = True,
    ) -> MetaModelRecord:
        """Store a trained model as the next version (retried if another replica took it)."""
        details = _details(outcome, input_names, report)
        for _ in range(NUMBERING_ATTEMPTS):
            try:
                async with self.db.write() as conn:
                    current = (
                        await conn.execute(select(func.max(meta_models.c.version)))
                    ).scalar_one()
                    version = int(current or 0) + 1
                    audit.touch("meta_models", str(version))
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
                            create_time=now,
                            serves_by_default=serves_by_default,
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

    async def latest_version(self, serving: bool = False) -> int | None:
        """The newest version (`serving`: the newest that serves by default)."""
        async with self.db.read() as conn:
            value = (await conn.execute(_NEWEST_SERVING if serving else _NEWEST)).scalar_one()
        return None if value is None else int(value)

    async def summary(self, version: int | None) -> MetaModelRecord | None:
        """The version's summary (None: the latest); None when there is no such version."""
        query = select(*_SUMMARY)
        if version is None:
            query = query.order_by(meta_models.c.version.desc()).limit(1)
        else:
            query = query.where(meta_models.c.version == version)
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _record(row)

    async def page(self, page_size: int, after: Cursor | None) -> Page[MetaModelRecord]:
        """Summaries, newest version first."""
        query = select(*_SUMMARY).order_by(*_NEWEST_FIRST.order_by()).limit(page_size + 1)
        condition = _NEWEST_FIRST.after(after)
        if condition is not None:
            query = query.where(condition)
        async with self.db.read() as conn:
            rows = list(await conn.execute(query))
        items, cursor = _NEWEST_FIRST.page(
            rows, page_size, lambda r: r.version, lambda r: r.version
        )
        return Page(items=[_record(r) for r in items], next_cursor=cursor)

    async def stored(self, version: int) -> StoredModel | None:
        """The version's serialised estimator and inputs (None: no such version)."""
        async with self.db.read() as conn:
            row = (
                await conn.execute(select(meta_models).where(meta_models.c.version == version))
            ).first()
        if row is None:
            return None
        try:
            return _stored(row)
        except (KeyError, TypeError, ValueError) as error:
            raise DataLoss(
                f"meta-model version {version} is stored but cannot be read ({error!r}); "
                "train a new version",
                reason="MODEL_UNREADABLE",
            ) from error


def _stored(row: Any) -> StoredModel:
    return StoredModel(
        version=row.version,
        kind=ModelKind(row.kind),
        observation_days=row.observation_days,
        input_names=list(row.details["input_names"]),
        ranges=[
            FeatureRange(
                name=f["name"],
                low=float(f["training_min"]),
                high=float(f["training_max"]),
                missing_fraction=float(f["missing_fraction"]),
            )
            for f in row.details["features"]
        ],
        model_bytes=bytes(row.model),
        no_skill=bool((row.details.get("validation") or {}).get("no_skill", False)),
        verdict=str((row.details.get("validation") or {}).get("verdict", "")),
    )
