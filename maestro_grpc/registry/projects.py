"""Projects, their teams and their outcomes: the domain operations over the store."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.clock import Clock, from_micros, to_micros, utcnow
from maestro_grpc.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from maestro_grpc.paging import Cursor, Page
from maestro_grpc.registry.model import (
    Project,
    ProjectFields,
    ProjectStatus,
    Success,
    TeamMember,
    TeamMemberFields,
    TeamRole,
)
from maestro_grpc.registry.project_cache import ProjectCache
from maestro_grpc.registry.store.tables import projects, team_members
from maestro_grpc.store import idempotency
from maestro_grpc.store.db import Database
from maestro_grpc.store.dialect import labels_match


def project_from_row(row: Row[Any], team: Sequence[TeamMember] = ()) -> Project:
    success = None
    if row.success_record_time is not None:
        ttp = row.success_time_to_production_seconds
        success = Success(
            succeeded=bool(row.success_succeeded),
            score=row.success_score,
            time_to_production=None if ttp is None else timedelta(seconds=ttp),
            metric_name=row.success_metric_name,
            metric_value=row.success_metric_value,
            business_impact=row.success_business_impact or "",
            notes=row.success_notes or "",
            record_time=row.success_record_time,
        )
    return Project(
        id=row.id,
        name=row.name,
        description=row.description,
        status=ProjectStatus(row.status),
        labels=dict(row.labels or {}),
        repo_url=row.repo_url,
        mlflow_experiment_id=row.mlflow_experiment_id,
        start_time=row.start_time,
        end_time=row.end_time,
        create_time=row.create_time,
        update_time=row.update_time,
        revision=row.revision,
        success=success,
        team=tuple(team),
    )


def member_from_row(row: Row[Any]) -> TeamMember:
    return TeamMember(
        id=row.id,
        project_id=row.project_id,
        person_id=row.person_id,
        display_name=row.display_name,
        role=TeamRole(row.role),
        years_experience=row.years_experience,
        skills=tuple(row.skills or ()),
        allocation=row.allocation,
        join_time=row.join_time,
        leave_time=row.leave_time,
    )


def _constraint(error: IntegrityError) -> str:
    return str(error.orig)


def _check_times(start: datetime | None, end: datetime | None, field: str) -> None:
    if start is not None and end is not None and end < start:
        raise InvalidArgument.for_field(field, "must not be before start_time")


class ProjectRegistry:
    """Create, read and update projects, record outcomes, manage teams."""

    def __init__(
        self, db: Database, clock: Clock = utcnow, cache: ProjectCache | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        # GetProject answers (see project_cache.py); writes here drop their
        # project's entry as soon as they commit, for read-your-writes.
        self.cache = cache if cache is not None else ProjectCache(0)

    # ---- projects --------------------------------------------------------

    async def create_project(
        self, fields: ProjectFields, *, request_id: str = "", fingerprint: str = ""
    ) -> Project:
        _check_times(fields.start_time, fields.end_time, "project.end_time")
        now = self.clock()
        try:
            async with self.db.write() as conn:
                if request_id:
                    earlier = await idempotency.claim(
                        conn, "CreateProject", request_id, fingerprint, now
                    )
                    if earlier:
                        return await self._load_project(conn, uuid.UUID(earlier))
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
                if request_id:
                    await idempotency.complete(conn, "CreateProject", request_id, str(project_id))
                return await self._load_project(conn, project_id)
        except IntegrityError as error:
            if "name" in _constraint(error):
                raise AlreadyExists(
                    f"a project named {fields.name!r} already exists", reason="PROJECT_EXISTS"
                ) from None
            raise

    async def get_project(self, project_id: uuid.UUID) -> Project:
        async with self.db.read() as conn:
            return await self._load_project(conn, project_id)

    async def _load_project(self, conn: AsyncConnection, project_id: uuid.UUID) -> Project:
        # One round trip: the project joined with its current team.
        rows = (await conn.execute(_PROJECT_WITH_TEAM, {"project_id": project_id})).all()
        if not rows:
            raise NotFound(f"project {project_id} not found", reason="PROJECT_NOT_FOUND")
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

    async def _current_teams(
        self, conn: AsyncConnection, project_ids: Sequence[uuid.UUID]
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

    async def list_projects(
        self,
        *,
        statuses: Sequence[ProjectStatus] = (),
        labels: dict[str, str] | None = None,
        page_size: int,
        after: Cursor | None,
    ) -> Page[Project]:
        conditions: list[ColumnElement[bool]] = []
        if statuses:
            conditions.append(projects.c.status.in_([s.value for s in statuses]))
        if labels:
            conditions.append(labels_match(projects, "labels", labels, self.db.dialect))
        where = and_(*conditions) if conditions else None
        query = select(projects)
        if where is not None:
            query = query.where(where)
        if after is not None:
            key_time = from_micros(int(after.key))
            key_id = _cursor_uuid(after)
            query = query.where(
                or_(
                    projects.c.create_time > key_time,
                    and_(projects.c.create_time == key_time, projects.c.id > key_id),
                )
            )
        query = query.order_by(projects.c.create_time, projects.c.id).limit(page_size + 1)
        count = select(func.count()).select_from(projects)
        if where is not None:
            count = count.where(where)
        async with self.db.read() as conn:
            rows = list(await conn.execute(query))
            total = int((await conn.execute(count)).scalar_one())
            page_rows = rows[:page_size]
            teams = await self._current_teams(conn, [r.id for r in page_rows])
        items = [project_from_row(r, teams.get(r.id, ())) for r in page_rows]
        next_cursor = None
        if len(rows) > page_size:
            last = page_rows[-1]
            next_cursor = Cursor(key=to_micros(last.create_time), id=str(last.id))
        return Page(items=items, next_cursor=next_cursor, total_size=total)

    async def update_project(
        self, project_id: uuid.UUID, changes: dict[str, Any], etag: str = ""
    ) -> Project:
        now = self.clock()
        try:
            async with self._changing(project_id), self.db.write() as conn:
                current = await self._load_project(conn, project_id)
                if etag and etag != current.etag:
                    raise Aborted(
                        f"project {project_id} changed since etag {etag!r} "
                        f"(now {current.etag!r}); read it again and retry",
                        reason="ETAG_MISMATCH",
                    )
                merged = {**asdict(_fields_of(current)), **changes}
                _check_times(merged["start_time"], merged["end_time"], "project.end_time")
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
                return await self._load_project(conn, project_id)
        except IntegrityError as error:
            if "name" in _constraint(error):
                raise AlreadyExists(
                    f"a project named {changes.get('name')!r} already exists",
                    reason="PROJECT_EXISTS",
                ) from None
            raise

    async def record_success(self, project_id: uuid.UUID, success: Success) -> Project:
        now = self.clock()
        ttp = success.time_to_production
        async with self._changing(project_id), self.db.write() as conn:
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
                raise NotFound(f"project {project_id} not found", reason="PROJECT_NOT_FOUND")
            return await self._load_project(conn, project_id)

    # ---- team ------------------------------------------------------------

    async def add_team_member(
        self,
        project_id: uuid.UUID,
        fields: TeamMemberFields,
        *,
        request_id: str = "",
        fingerprint: str = "",
    ) -> TeamMember:
        now = self.clock()
        join_time = fields.join_time or now
        _check_leave(join_time, fields.leave_time, "team_member.leave_time")
        try:
            async with self._changing() as changed, self.db.write() as conn:
                if request_id:
                    earlier = await idempotency.claim(
                        conn, "AddTeamMember", request_id, fingerprint, now
                    )
                    if earlier:
                        return await self._load_member(conn, uuid.UUID(earlier))
                await self._require_project(conn, project_id)
                changed.append(project_id)
                member_id = uuid.uuid4()
                await conn.execute(
                    team_members.insert().values(
                        id=member_id,
                        project_id=project_id,
                        person_id=fields.person_id,
                        display_name=fields.display_name,
                        role=fields.role.value,
                        years_experience=fields.years_experience,
                        skills=list(fields.skills),
                        allocation=fields.allocation,
                        join_time=join_time,
                        leave_time=fields.leave_time,
                        create_time=now,
                        update_time=now,
                    )
                )
                await _touch_project(conn, project_id, now)
                if request_id:
                    await idempotency.complete(conn, "AddTeamMember", request_id, str(member_id))
                return await self._load_member(conn, member_id)
        except IntegrityError as error:
            if "person" in _constraint(error):
                raise AlreadyExists(
                    f"{fields.person_id!r} is already on the current team of project {project_id}",
                    reason="TEAM_MEMBER_EXISTS",
                ) from None
            raise

    async def update_team_member(self, member_id: uuid.UUID, changes: dict[str, Any]) -> TeamMember:
        now = self.clock()
        try:
            async with self._changing() as changed, self.db.write() as conn:
                current = await self._load_member(conn, member_id)
                changed.append(current.project_id)
                join_time = changes.get("join_time", current.join_time)
                leave_time = changes.get("leave_time", current.leave_time)
                _check_leave(join_time, leave_time, "team_member.leave_time")
                values = {
                    k: (v.value if isinstance(v, TeamRole) else list(v) if k == "skills" else v)
                    for k, v in changes.items()
                }
                await conn.execute(
                    update(team_members)
                    .where(team_members.c.id == member_id)
                    .values(**values, update_time=now)
                )
                await _touch_project(conn, current.project_id, now)
                return await self._load_member(conn, member_id)
        except IntegrityError as error:
            if "person" in _constraint(error):
                raise AlreadyExists(
                    "that person is already on the project's current team",
                    reason="TEAM_MEMBER_EXISTS",
                ) from None
            raise

    async def remove_team_member(
        self, member_id: uuid.UUID, leave_time: datetime | None
    ) -> TeamMember:
        now = self.clock()
        async with self._changing() as changed, self.db.write() as conn:
            current = await self._load_member(conn, member_id)
            changed.append(current.project_id)
            if current.leave_time is not None:
                raise FailedPrecondition(
                    f"team member {member_id} already left at {current.leave_time.isoformat()}",
                    reason="ALREADY_LEFT",
                )
            leave = leave_time or now
            _check_leave(current.join_time, leave, "leave_time")
            await conn.execute(
                update(team_members)
                .where(team_members.c.id == member_id)
                .values(leave_time=leave, update_time=now)
            )
            await _touch_project(conn, current.project_id, now)
            return await self._load_member(conn, member_id)

    async def list_team_members(
        self,
        project_id: uuid.UUID,
        *,
        include_former: bool,
        page_size: int,
        after: Cursor | None,
    ) -> Page[TeamMember]:
        query = select(team_members).where(team_members.c.project_id == project_id)
        if not include_former:
            query = query.where(team_members.c.leave_time.is_(None))
        if after is not None:
            key_time = from_micros(int(after.key))
            key_id = _cursor_uuid(after)
            query = query.where(
                or_(
                    team_members.c.join_time > key_time,
                    and_(team_members.c.join_time == key_time, team_members.c.id > key_id),
                )
            )
        query = query.order_by(team_members.c.join_time, team_members.c.id).limit(page_size + 1)
        async with self.db.read() as conn:
            await self._require_project(conn, project_id)
            rows = list(await conn.execute(query))
        items = [member_from_row(r) for r in rows[:page_size]]
        next_cursor = None
        if len(rows) > page_size:
            last = items[-1]
            next_cursor = Cursor(key=to_micros(last.join_time), id=str(last.id))
        return Page(items=items, next_cursor=next_cursor)

    @asynccontextmanager
    async def _changing(self, *project_ids: uuid.UUID) -> AsyncIterator[list[uuid.UUID]]:
        """Around a write transaction: drop the cached answers of the projects it
        changes once it has ended (committed or not), before the RPC answers."""
        changed = list(project_ids)
        try:
            yield changed
        finally:
            for project_id in changed:
                self.cache.invalidate(project_id)

    async def _load_member(self, conn: AsyncConnection, member_id: uuid.UUID) -> TeamMember:
        row = (
            await conn.execute(select(team_members).where(team_members.c.id == member_id))
        ).first()
        if row is None:
            raise NotFound(f"team member {member_id} not found", reason="TEAM_MEMBER_NOT_FOUND")
        return member_from_row(row)

    async def _require_project(self, conn: AsyncConnection, project_id: uuid.UUID) -> None:
        found = (
            await conn.execute(select(projects.c.id).where(projects.c.id == project_id))
        ).first()
        if found is None:
            raise NotFound(f"project {project_id} not found", reason="PROJECT_NOT_FOUND")


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
_PROJECT_WITH_TEAM = (
    select(projects, *_TEAM_COLUMNS)
    .outerjoin(
        team_members,
        and_(team_members.c.project_id == projects.c.id, team_members.c.leave_time.is_(None)),
    )
    .where(projects.c.id == bindparam("project_id"))
    .order_by(team_members.c.join_time, team_members.c.id)
)


def _fields_of(project: Project) -> ProjectFields:
    return ProjectFields(
        name=project.name,
        description=project.description,
        status=project.status,
        labels=project.labels,
        repo_url=project.repo_url,
        mlflow_experiment_id=project.mlflow_experiment_id,
        start_time=project.start_time,
        end_time=project.end_time,
    )


def _check_leave(join: datetime, leave: datetime | None, field: str) -> None:
    if leave is not None and leave < join:
        raise InvalidArgument.for_field(field, "must not be before the join time")


def _cursor_uuid(cursor: Cursor) -> uuid.UUID:
    try:
        return uuid.UUID(cursor.id)
    except ValueError:
        raise InvalidArgument.for_field("page_token", "is not a page token of this API") from None


async def _touch_project(conn: AsyncConnection, project_id: uuid.UUID, now: datetime) -> None:
    """A team change changes the project (its etag and update time)."""
    await conn.execute(
        update(projects)
        .where(projects.c.id == project_id)
        .values(update_time=now, revision=projects.c.revision + 1)
    )
