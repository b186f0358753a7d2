"""Experiments and their assignments in the store."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc import audit
from maestro_grpc.errors import AlreadyExists
from maestro_grpc.prediction.model import (
    Assignment,
    Experiment,
    ExperimentFields,
    ExperimentUnit,
    Variant,
)
from maestro_grpc.prediction.store.tables import experiment_assignments, experiments
from maestro_grpc.store.db import Database
from maestro_grpc.store.dialect import insert
from maestro_grpc.store.idempotency import RequestKey, create_once

SCOPE = "CreateExperiment"


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


async def _load(conn: AsyncConnection, experiment_id: uuid.UUID) -> Experiment | None:
    row = (await conn.execute(select(experiments).where(experiments.c.id == experiment_id))).first()
    return None if row is None else _experiment(row)


async def _assignment_of(
    conn: AsyncConnection, experiment_id: uuid.UUID, unit_id: str
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


async def _insert(conn: AsyncConnection, fields: ExperimentFields, now: datetime) -> uuid.UUID:
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
    return experiment_id


async def _made(conn: AsyncConnection, experiment_id: uuid.UUID) -> Experiment:
    """An experiment this transaction made or found by its request_id: it is there."""
    found = await _load(conn, experiment_id)
    assert found is not None
    return found


class ExperimentStore:
    """The `experiments` and `experiment_assignments` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, fields: ExperimentFields, request_id: str, fingerprint: str, now: datetime
    ) -> Experiment:
        """A new experiment (a repeated request_id returns the first call's)."""
        key = RequestKey(SCOPE, request_id, fingerprint) if request_id else None
        try:
            async with self.db.write() as conn:
                return await create_once(
                    conn,
                    key,
                    now,
                    lambda: _insert_touched(conn, fields, now),
                    lambda experiment_id: _made(conn, experiment_id),
                )
        except IntegrityError as error:
            if "name" in str(error.orig):
                raise AlreadyExists(
                    f"an experiment named {fields.name!r} already exists",
                    reason="EXPERIMENT_EXISTS",
                ) from None
            raise

    async def get(self, experiment_id: uuid.UUID) -> Experiment | None:
        async with self.db.read() as conn:
            return await _load(conn, experiment_id)

    async def assignment(self, experiment_id: uuid.UUID, unit_id: str) -> Assignment | None:
        """The unit's stored assignment, if it has one."""
        async with self.db.read() as conn:
            return await _assignment_of(conn, experiment_id, unit_id)

    async def assign(
        self,
        experiment_id: uuid.UUID,
        unit_id: str,
        variant: str,
        project_id: uuid.UUID | None,
        now: datetime,
    ) -> Assignment:
        """Store the unit's first assignment; a concurrent first one wins, and is returned."""
        async with self.db.write() as conn:
            audit.touch("experiments", experiment_id, project_id)
            await conn.execute(
                insert(conn, experiment_assignments)
                .values(
                    experiment_id=experiment_id,
                    unit_id=unit_id,
                    variant=variant,
                    project_id=project_id,
                    assign_time=now,
                )
                .on_conflict_do_nothing()
            )
            stored = await _assignment_of(conn, experiment_id, unit_id)
        assert stored is not None  # inserted, or already there
        return stored

    async def assignments(self, experiment_id: uuid.UUID, before: datetime) -> list[Assignment]:
        """The experiment's assignments made before `before`, by unit id."""
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(experiment_assignments)
                .where(
                    experiment_assignments.c.experiment_id == experiment_id,
                    experiment_assignments.c.assign_time < before,
                )
                .order_by(experiment_assignments.c.unit_id)
            )
            return [_assignment(r) for r in rows]


async def _insert_touched(
    conn: AsyncConnection, fields: ExperimentFields, now: datetime
) -> uuid.UUID:
    experiment_id = await _insert(conn, fields, now)
    audit.touch("experiments", experiment_id)
    return experiment_id
