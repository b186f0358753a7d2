"""The SQL of project teams: members join, change and leave; a team change touches its project."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc import audit
from maestro_grpc.errors import AlreadyExists, NotFound
from maestro_grpc.paging import Cursor, KeyKind, Page
from maestro_grpc.registry.model import TeamMember, TeamMemberFields, TeamRole
from maestro_grpc.registry.store.rows import member_from_row, require_project
from maestro_grpc.registry.store.tables import projects, team_members
from maestro_grpc.store.db import Database
from maestro_grpc.store.idempotency import RequestKey, create_once
from maestro_grpc.store.keyset import Keyset
from maestro_grpc.store.outbox import REGISTRY, Notes, noted

# ListTeamMembers pages by join time, earliest first.
BY_JOINING = Keyset(key=team_members.c.join_time, id=team_members.c.id, key_kind=KeyKind.TIME)


def _already_on_team(error: IntegrityError, message: str) -> Exception:
    """ALREADY_EXISTS when the person is on the current team; any other error as it is."""
    if "person" not in str(error.orig):
        return error
    return AlreadyExists(message, reason="TEAM_MEMBER_EXISTS")


async def _load_member(conn: AsyncConnection, member_id: uuid.UUID) -> TeamMember:
    row = (await conn.execute(select(team_members).where(team_members.c.id == member_id))).first()
    if row is None:
        raise NotFound(f"team member {member_id} not found", reason="TEAM_MEMBER_NOT_FOUND")
    return member_from_row(row)


async def _touch_project(conn: AsyncConnection, project_id: uuid.UUID, now: datetime) -> None:
    """A team change changes the project (its etag and update time)."""
    await conn.execute(
        update(projects)
        .where(projects.c.id == project_id)
        .values(update_time=now, revision=projects.c.revision + 1)
    )


class TeamStore:
    """Team members: each method one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        project_id: uuid.UUID,
        fields: TeamMemberFields,
        *,
        join_time: datetime,
        now: datetime,
        request_id: str = "",
        fingerprint: str = "",
        notes: Notes[TeamMember] | None = None,
    ) -> TeamMember:
        key = RequestKey("AddTeamMember", request_id, fingerprint)
        try:
            async with self.db.write() as conn:

                async def insert() -> uuid.UUID:
                    await require_project(conn, project_id)
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
                            directory_person_id=fields.directory_person_id,
                            create_time=now,
                            update_time=now,
                        )
                    )
                    await _touch_project(conn, project_id, now)
                    audit.touch("team_members", member_id, project_id)
                    return member_id

                made = await create_once(
                    conn, key, now, insert, lambda member_id: _load_member(conn, member_id)
                )
                return await noted(conn, REGISTRY, notes, made, now)
        except IntegrityError as error:
            raise _already_on_team(
                error,
                f"{fields.person_id!r} is already on the current team of project {project_id}",
            ) from None

    async def update(
        self,
        member_id: uuid.UUID,
        changes_for: Callable[[TeamMember], dict[str, Any]],
        now: datetime,
        notes: Notes[TeamMember] | None = None,
    ) -> TeamMember:
        """Apply `changes_for(current)` (the domain's checks, then the new values)."""
        try:
            async with self.db.write() as conn:
                current = await _load_member(conn, member_id)
                values = {
                    k: (v.value if isinstance(v, TeamRole) else list(v) if k == "skills" else v)
                    for k, v in changes_for(current).items()
                }
                await conn.execute(
                    update(team_members)
                    .where(team_members.c.id == member_id)
                    .values(**values, update_time=now)
                )
                await _touch_project(conn, current.project_id, now)
                audit.touch("team_members", member_id, current.project_id)
                return await noted(conn, REGISTRY, notes, await _load_member(conn, member_id), now)
        except IntegrityError as error:
            raise _already_on_team(
                error, "that person is already on the project's current team"
            ) from None

    async def remove(
        self,
        member_id: uuid.UUID,
        leave_time_for: Callable[[TeamMember], datetime],
        now: datetime,
        notes: Notes[TeamMember] | None = None,
    ) -> TeamMember:
        """Record that the member left at `leave_time_for(current)` (the domain's checks)."""
        async with self.db.write() as conn:
            current = await _load_member(conn, member_id)
            leave = leave_time_for(current)
            await conn.execute(
                update(team_members)
                .where(team_members.c.id == member_id)
                .values(leave_time=leave, update_time=now)
            )
            await _touch_project(conn, current.project_id, now)
            audit.touch("team_members", member_id, current.project_id)
            return await noted(conn, REGISTRY, notes, await _load_member(conn, member_id), now)

    async def list(
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
        beyond = BY_JOINING.after(after)
        if beyond is not None:
            query = query.where(beyond)
        query = query.order_by(*BY_JOINING.order_by()).limit(page_size + 1)
        async with self.db.read() as conn:
            await require_project(conn, project_id)
            rows = list(await conn.execute(query))
        page, next_cursor = BY_JOINING.page(
            rows, page_size, key_of=lambda r: r.join_time, id_of=lambda r: r.id
        )
        return Page(items=[member_from_row(r) for r in page], next_cursor=next_cursor)
