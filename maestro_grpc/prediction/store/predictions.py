"""Stored predictions: every PredictSuccess answer, listed per project and scored later."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from maestro_grpc import audit
from maestro_grpc.errors import NotFound
from maestro_grpc.paging import Cursor, KeyKind, Page
from maestro_grpc.prediction.model import Contribution, PastPrediction, PredictionRecord
from maestro_grpc.prediction.store.tables import predictions
from maestro_grpc.store import outbox
from maestro_grpc.store.db import Database
from maestro_grpc.store.keyset import Keyset

_NEWEST_FIRST = Keyset(
    key=predictions.c.create_time,
    id=predictions.c.id,
    key_kind=KeyKind.TIME,
    descending=True,
)
# The newest prediction's probability, read before each new one when a feed
# listens: built once (see registry/store/read.py).
_LATEST_PROBABILITY = (
    select(predictions.c.probability)
    .where(predictions.c.project_id == bindparam("project_id"))
    .order_by(*_NEWEST_FIRST.order_by())
    .limit(1)
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
        no_skill=bool(row.no_skill),
        warnings=list(row.warnings or []),
    )


class PredictionStore:
    """The `predictions` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, record: PredictionRecord, notes: Sequence[dict[str, Any]] = ()) -> None:
        """Store a prediction, and the feed's `notes` in its transaction; NOT_FOUND when
        its project was deleted meanwhile."""
        values = {
            "id": record.id,
            "project_id": record.project_id,
            "model_version": record.model_version,
            "probability": record.probability,
            "base_log_odds": record.base_log_odds,
            "contributions": [
                {
                    "feature": c.feature,
                    "value": c.value,
                    "missing": c.missing,
                    "contribution": c.contribution,
                }
                for c in record.contributions
            ],
            "extrapolation": record.extrapolation,
            "extrapolation_reasons": record.extrapolation_reasons,
            "observation_end_time": record.observation_end_time,
            "create_time": record.create_time,
            "no_skill": record.no_skill,
            "warnings": record.warnings,
        }
        try:
            async with self.db.write() as conn:
                audit.touch("predictions", record.id, record.project_id)
                # One statement for every prediction (the values as parameters): SQLAlchemy
                # compiles it once, not a new statement per row's values.
                await conn.execute(predictions.insert(), values)
                await outbox.append(conn, outbox.PREDICTION, notes, record.create_time)
        except IntegrityError:
            raise NotFound(
                f"project {record.project_id} was deleted", reason="PROJECT_NOT_FOUND"
            ) from None

    async def page(
        self, project_id: uuid.UUID, page_size: int, after: Cursor | None
    ) -> Page[PredictionRecord]:
        """A project's predictions, newest first."""
        query = (
            select(predictions)
            .where(predictions.c.project_id == project_id)
            .order_by(*_NEWEST_FIRST.order_by())
            .limit(page_size + 1)
        )
        condition = _NEWEST_FIRST.after(after)
        if condition is not None:
            query = query.where(condition)
        async with self.db.read() as conn:
            rows = list(await conn.execute(query))
        items, cursor = _NEWEST_FIRST.page(rows, page_size, lambda r: r.create_time, lambda r: r.id)
        return Page(items=[_prediction(r) for r in items], next_cursor=cursor)

    async def latest_probability(self, project_id: uuid.UUID) -> float | None:
        """The probability of the project's newest prediction (None: none yet): one
        indexed row, without the contributions `page` reads and parses."""
        async with self.db.read() as conn:
            value = (await conn.execute(_LATEST_PROBABILITY, {"project_id": project_id})).scalar()
        return None if value is None else float(value)

    async def past(self, versions: Collection[int]) -> list[PastPrediction]:
        """Every prediction these versions made, by version, project and time."""
        if not versions:
            return []
        query = (
            select(
                predictions.c.model_version,
                predictions.c.project_id,
                predictions.c.probability,
                predictions.c.create_time,
            )
            .where(predictions.c.model_version.in_(sorted(set(versions))))
            .order_by(
                predictions.c.model_version,
                predictions.c.project_id,
                predictions.c.create_time,
                predictions.c.id,
            )
        )
        async with self.db.read() as conn:
            rows = await conn.execute(query)
            return [
                PastPrediction(r.model_version, r.project_id, float(r.probability), r.create_time)
                for r in rows
            ]
