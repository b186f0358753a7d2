"""Experiments and their assignments in the store."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc import audit
from maestro_grpc.errors import AlreadyExists
from maestro_grpc.paging import Cursor, KeyKind, Page
from maestro_grpc.prediction.model import (
    Assignment,
    Enrolment,
    Experiment,
    ExperimentFields,
    ExperimentStatus,
    ExperimentUnit,
    MetricSpec,
    Variant,
    outcome_spec,
)
from maestro_grpc.prediction.store.tables import (
    experiment_assignments,
    experiment_unit_projects,
    experiments,
)
from maestro_grpc.store.db import Database
from maestro_grpc.store.dialect import insert
from maestro_grpc.store.idempotency import RequestKey, create_once
from maestro_grpc.store.keyset import Keyset

SCOPE = "CreateExperiment"
_NEWEST_FIRST = Keyset(
    key=experiments.c.create_time, id=experiments.c.id, key_kind=KeyKind.TIME, descending=True
)
# ListAssignments pages by unit id (unique within the experiment; the
# experiment id only fills the cursor's id).
_BY_UNIT = Keyset(
    key=experiment_assignments.c.unit_id,
    id=experiment_assignments.c.experiment_id,
    key_kind=KeyKind.TEXT,
)
links = experiment_unit_projects


def _experiment(row: Any) -> Experiment:
    metrics = tuple(MetricSpec.from_dict(m) for m in row.metrics) or (
        outcome_spec(row.outcome_metric),
    )
    return Experiment(
        id=row.id,
        name=row.name,
        description=row.description,
        unit=ExperimentUnit(row.unit),
        variants=tuple(Variant(v["name"], float(v["weight"])) for v in row.variants),
        metrics=metrics,
        salt=row.salt,
        create_time=row.create_time,
        start_time=row.start_time or row.create_time,
        end_time=row.end_time,
        hypothesis=row.hypothesis,
        sequential=bool(row.sequential),
        tuning=float(row.tuning),
    )


def _status_is(status: ExperimentStatus, now: datetime) -> ColumnElement[bool]:
    """Experiment.status in SQL (a NULL start_time is the create time)."""
    c = experiments.c
    start = c.start_time.is_(None) | (c.start_time <= now)
    stopped = c.end_time.is_not(None) & (c.end_time <= now)
    if status is ExperimentStatus.STOPPED:
        return stopped
    if status is ExperimentStatus.DRAFT:
        return and_(~start, or_(c.end_time.is_(None), c.end_time > now))
    return and_(start, ~stopped)


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
            outcome_metric=fields.metrics[0].name,
            salt=fields.salt or str(experiment_id),
            create_time=now,
            hypothesis=fields.hypothesis,
            metrics=[m.as_dict() for m in fields.metrics],
            start_time=fields.start_time or now,
            end_time=fields.end_time,
            sequential=fields.sequential,
            tuning=fields.tuning,
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

    async def page(
        self, page_size: int, after: Cursor | None, status: ExperimentStatus | None, now: datetime
    ) -> Page[Experiment]:
        """Experiments newest first, of one status or all."""
        query = select(experiments).order_by(*_NEWEST_FIRST.order_by()).limit(page_size + 1)
        condition = _NEWEST_FIRST.after(after)
        if condition is not None:
            query = query.where(condition)
        if status is not None:
            query = query.where(_status_is(status, now))
        async with self.db.read() as conn:
            rows = list(await conn.execute(query))
        items, cursor = _NEWEST_FIRST.page(rows, page_size, lambda r: r.create_time, lambda r: r.id)
        return Page(items=[_experiment(r) for r in items], next_cursor=cursor)

    async def assignments(
        self,
        experiment_id: uuid.UUID,
        *,
        variant: str | None,
        page_size: int,
        after: Cursor | None,
        within: frozenset[uuid.UUID] | None,
    ) -> Page[Assignment]:
        """A page of the experiment's assignments by unit id, with how many match."""
        a = experiment_assignments
        conditions: list[ColumnElement[bool]] = [a.c.experiment_id == experiment_id]
        if variant is not None:
            conditions.append(a.c.variant == variant)
        if within is not None:
            conditions.append(a.c.project_id.in_(sorted(within, key=str)))
        query = select(a).where(*conditions)
        beyond = _BY_UNIT.after(after)
        if beyond is not None:
            query = query.where(beyond)
        query = query.order_by(*_BY_UNIT.order_by()).limit(page_size + 1)
        async with self.db.read() as conn:
            rows = list(await conn.execute(query))
            total = (
                await conn.execute(select(func.count()).select_from(a).where(*conditions))
            ).scalar_one()
        items, cursor = _BY_UNIT.page(
            rows, page_size, lambda r: r.unit_id, lambda r: r.experiment_id
        )
        return Page(
            items=[_assignment(r) for r in items], next_cursor=cursor, total_size=int(total)
        )

    async def stop(self, experiment_id: uuid.UUID, now: datetime) -> None:
        """End the experiment now, unless it already ended."""
        async with self.db.write() as conn:
            audit.touch("experiments", experiment_id)
            await conn.execute(
                update(experiments)
                .where(
                    experiments.c.id == experiment_id,
                    or_(experiments.c.end_time.is_(None), experiments.c.end_time > now),
                )
                .values(end_time=now)
            )

    async def assign(
        self,
        experiment_id: uuid.UUID,
        unit_id: str,
        variant: str,
        project_id: uuid.UUID | None,
        now: datetime,
    ) -> Assignment:
        """Store the unit's first assignment; a concurrent first one wins, and is returned.

        The project given is linked to the unit unless another unit has it.
        """
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
            if project_id is not None:
                await _link(conn, experiment_id, unit_id, project_id, now)
            stored = await _assignment_of(conn, experiment_id, unit_id)
        assert stored is not None  # inserted, or already there
        return stored

    async def link(
        self, experiment_id: uuid.UUID, unit_id: str, project_id: uuid.UUID, now: datetime
    ) -> None:
        """Count `project_id` for an assigned unit, unless another unit has it."""
        async with self.db.write() as conn:
            audit.touch("experiments", experiment_id, project_id)
            await _link(conn, experiment_id, unit_id, project_id, now)

    async def units(self, experiment_id: uuid.UUID, before: datetime) -> Enrolment:
        """The units assigned before `before`, by unit id, with the projects linked by then.

        One query, whatever the number of units.
        """
        a = experiment_assignments
        joined = a.outerjoin(
            links,
            and_(
                links.c.experiment_id == a.c.experiment_id,
                links.c.unit_id == a.c.unit_id,
                links.c.link_time < before,
            ),
        )
        async with self.db.read() as conn:
            unit_col, variant_col, time_col, project_col = await _columns(
                conn,
                joined,
                [a.c.unit_id, a.c.variant, a.c.assign_time, links.c.project_id],
                [a.c.experiment_id == experiment_id, a.c.assign_time < before],
            )
        out = Enrolment([], [], [], [], [])
        index: dict[str, int] = {}
        # By unit id (sorted here: cheaper than the database's collation), so the same
        # data always sums in the same order.
        for i in sorted(range(len(unit_col)), key=unit_col.__getitem__):
            unit = unit_col[i]
            at = index.get(unit)
            if at is None:
                at = index[unit] = len(out.unit_ids)
                out.unit_ids.append(unit)
                out.variants.append(variant_col[i])
                out.assign_times.append(time_col[i])
            if project_col[i] is not None:
                out.project_ids.append(project_col[i])
                out.project_units.append(at)
        return out


async def _columns(
    conn: AsyncConnection, source: Any, columns: list[Any], where: list[Any]
) -> list[list[Any]]:
    """A query's result as columns, in no particular order.

    On PostgreSQL fetched as one row of arrays (decoded in C, not row by
    row: for 20,000 assignments, a third of the time); the arrays of one
    aggregate row advance together, so their entries stay aligned.
    """
    if conn.dialect.name != "postgresql":
        rows = (await conn.execute(select(*columns).select_from(source).where(*where))).all()
        return [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in columns]
    arrays = [func.array_agg(c) for c in columns]
    row = (await conn.execute(select(*arrays).select_from(source).where(*where))).one()
    return [list(c or ()) for c in row]


async def _link(
    conn: AsyncConnection,
    experiment_id: uuid.UUID,
    unit_id: str,
    project_id: uuid.UUID,
    now: datetime,
) -> None:
    await conn.execute(
        insert(conn, links)
        .values(experiment_id=experiment_id, project_id=project_id, unit_id=unit_id, link_time=now)
        .on_conflict_do_nothing()
    )


async def _insert_touched(
    conn: AsyncConnection, fields: ExperimentFields, now: datetime
) -> uuid.UUID:
    experiment_id = await _insert(conn, fields, now)
    audit.touch("experiments", experiment_id)
    return experiment_id
