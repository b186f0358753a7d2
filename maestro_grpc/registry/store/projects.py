"""The SQL of projects and their recorded outcomes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc import audit
from maestro_grpc.errors import Aborted, AlreadyExists
from maestro_grpc.paging import Cursor, KeyKind, Page
from maestro_grpc.registry.model import (
    Project,
    ProjectFields,
    ProjectStatus,
    Success,
    TeamMember,
    TeamRole,
)
from maestro_grpc.registry.store.rows import (
    member_from_row,
    project_from_row,
    project_not_found,
)
from maestro_grpc.registry.store.tables import projects, team_members
from maestro_grpc.store.db import Database
from maestro_grpc.store.dialect import labels_match
from maestro_grpc.store.idempotency import RequestKey, create_once
from maestro_grpc.store.keyset import Keyset
from maestro_grpc.store.outbox import REGISTRY, Notes, noted

# ListProjects pages by creation time, oldest first.
BY_CREATION = Keyset(key=projects.c.create_time, id=projects.c.id, key_kind=KeyKind.TIME)

_TEAM_COLUMNS = [
    team_members.c[name].label(f"tm_{name}")
    for name in (
        "id",
        "person_id",
        "display_name",
        "role",
        "years_experience",
        "skills",
        "allocation",
        "join_time",
    )
]
# One round trip: the project joined with its current team.
_PROJECT_WITH_TEAM = (
    select(projects, *_TEAM_COLUMNS)
    .outerjoin(
        team_members,
        and_(team_members.c.project_id == projects.c.id, team_members.c.leave_time.is_(None)),
    )
    .where(projects.c.id == bindparam("project_id"))
    .order_by(team_members.c.join_time, team_members.c.id)
)


def _name_taken(error: IntegrityError, name: object) -> Exception:
    """ALREADY_EXISTS for a taken name; any other integrity error as it is."""
    if "name" not in str(error.orig):
        return error
    return AlreadyExists(f"a project named {name!r} already exists", reason="PROJECT_EXISTS")


async def load_project(conn: AsyncConnection, project_id: uuid.UUID) -> Project:
    """The project with its current team, or NOT_FOUND."""
    rows = (await conn.execute(_PROJECT_WITH_TEAM, {"project_id": project_id})).all()
    if not rows:
        raise project_not_found(project_id)
    team = [
        TeamMember(
            id=r.tm_id,
            project_id=project_id,
            person_id=r.tm_person_id,
            display_name=r.tm_display_name,
            role=TeamRole(r.tm_role),
            years_experience=r.tm_years_experience,
            skills=tuple(r.tm_skills or ()),
            allocation=r.tm_allocation,
            join_time=r.tm_join_time,
            leave_time=None,
        )
        for r in rows
        if r.tm_id is not None
    ]
    return project_from_row(rows[0], team)


class ProjectStore:
    """Projects: each method one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, fields: ProjectFields, now: datetime, *, request_id: str = "", fingerprint: str = ""
    ) -> Project:
        key = RequestKey("CreateProject", request_id, fingerprint)
        try:
            async with self.db.write() as conn:

                async def insert() -> uuid.UUID:
                    project_id = uuid.uuid4()
                    await conn.execute(
                        projects.insert().values(
                            id=project_id,
                            name=fields.name,
                            description=fields.description,
                            status=fields.status.value,
                            labels=fields.labels,
                            repo_url=fields.repo_url,
                            mlflow_experiment_id=fields.mlflow_experiment_id,
                            start_time=fields.start_time,
                            end_time=fields.end_time,
                            create_time=now,
                            update_time=now,
                            revision=1,
                        )
                    )
                    audit.touch("projects", project_id, project_id)
                    return project_id

                return await create_once(
                    conn, key, now, insert, lambda project_id: load_project(conn, project_id)
                )
        except IntegrityError as error:
            raise _name_taken(error, fields.name) from None

    async def get(self, project_id: uuid.UUID) -> Project:
        async with self.db.read() as conn:
            return await load_project(conn, project_id)

    async def list(
        self,
        *,
        statuses: Sequence[ProjectStatus],
        labels: dict[str, str],
        page_size: int,
        after: Cursor | None,
        within: frozenset[uuid.UUID] | None = None,
    ) -> Page[Project]:
        conditions: list[ColumnElement[bool]] = []
        if within is not None:
            conditions.append(projects.c.id.in_(sorted(within, key=str)))
        if statuses:
            conditions.append(projects.c.status.in_([s.value for s in statuses]))
        if labels:
            conditions.append(labels_match(projects, "labels", labels, self.db.dialect))
        count = select(func.count()).select_from(projects).where(*conditions)
        beyond = BY_CREATION.after(after)
        if beyond is not None:
            conditions.append(beyond)
        query = (
            select(projects)
            .where(*conditions)
            .order_by(*BY_CREATION.order_by())
            .limit(page_size + 1)
        )
        async with self.db.read() as conn:
            rows, next_cursor = BY_CREATION.page(
                list(await conn.execute(query)),
                page_size,
                key_of=lambda r: r.create_time,
                id_of=lambda r: r.id,
            )
            total = int((await conn.execute(count)).scalar_one())
            teams = await _current_teams(conn, [r.id for r in rows])
        items = [project_from_row(r, teams.get(r.id, ())) for r in rows]
        return Page(items=items, next_cursor=next_cursor, total_size=total)

    async def update(
        self,
        project_id: uuid.UUID,
        changes_for: Callable[[Project], dict[str, Any]],
        now: datetime,
        notes: Notes[Project] | None = None,
    ) -> Project:
        """Apply `changes_for(current)` (the domain's checks, then the new values) to the
        project, unless another write changed it since it was read (ABORTED)."""
        changes: dict[str, Any] = {}
        try:
            async with self.db.write() as conn:
                current = await load_project(conn, project_id)
                changes = changes_for(current)
                values = {
                    k: (v.value if isinstance(v, ProjectStatus) else v) for k, v in changes.items()
                }
                result = await conn.execute(
                    update(projects)
                    .where(projects.c.id == project_id, projects.c.revision == current.revision)
                    .values(**values, update_time=now, revision=current.revision + 1)
                )
                if result.rowcount != 1:
                    raise Aborted(
                        f"project {project_id} changed concurrently; retry",
                        reason="CONCURRENT_UPDATE",
                    )
                audit.touch("projects", project_id, project_id)
                return await noted(conn, REGISTRY, notes, await load_project(conn, project_id), now)
        except IntegrityError as error:
            raise _name_taken(error, changes.get("name")) from None

    async def record_success(
        self,
        project_id: uuid.UUID,
        success: Success,
        now: datetime,
        notes: Notes[Project] | None = None,
    ) -> Project:
        ttp = success.time_to_production
        async with self.db.write() as conn:
            result = await conn.execute(
                update(projects)
                .where(projects.c.id == project_id)
                .values(
                    success_succeeded=success.succeeded,
                    success_score=success.score,
                    success_time_to_production_seconds=None if ttp is None else ttp.total_seconds(),
                    success_metric_name=success.metric_name,
                    success_metric_value=success.metric_value,
                    success_business_impact=success.business_impact,
                    success_notes=success.notes,
                    success_record_time=now,
                    update_time=now,
                    revision=projects.c.revision + 1,
                )
            )
            if result.rowcount != 1:
                raise project_not_found(project_id)
            audit.touch("projects", project_id, project_id)
            return await noted(conn, REGISTRY, notes, await load_project(conn, project_id), now)


async def _current_teams(
    conn: AsyncConnection, project_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[TeamMember]]:
    if not project_ids:
        return {}
    rows = await conn.execute(
        select(team_members)
        .where(team_members.c.project_id.in_(project_ids), team_members.c.leave_time.is_(None))
        .order_by(team_members.c.join_time, team_members.c.id)
    )
    teams: dict[uuid.UUID, list[TeamMember]] = {}
    for row in rows:
        teams.setdefault(row.project_id, []).append(member_from_row(row))
    return teams
