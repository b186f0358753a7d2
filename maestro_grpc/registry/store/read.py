"""The SQL behind the registry's read API for other contexts (`registry/read.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from sqlalchemy import BindParameter, bindparam, select

from maestro_grpc.registry.model import ProjectStatus, TeamMember, UsageOutcome
from maestro_grpc.registry.outward import ArtifactUse, CreatedArtifact, ProjectOutline, ProjectUse
from maestro_grpc.registry.store.rows import member_from_row
from maestro_grpc.registry.store.tables import artifact_usages, artifacts, projects, team_members
from maestro_grpc.store.db import Database
from maestro_grpc.store.dialect import uuid_in

# Ids per IN (...) list: well under both stores' bind-parameter limits.
CHUNK = 500


def _chunks(ids: Collection[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    ordered = sorted(set(ids), key=str)
    for i in range(0, len(ordered), CHUNK):
        yield ordered[i : i + CHUNK]


def _outline(row: Any) -> ProjectOutline:
    recorded = row.success_record_time is not None
    return ProjectOutline(
        id=row.id,
        name=row.name,
        status=ProjectStatus(row.status),
        labels=dict(row.labels or {}),
        start_time=row.start_time,
        create_time=row.create_time,
        end_time=row.end_time,
        succeeded=bool(row.success_succeeded) if recorded else None,
        score=row.success_score if recorded else None,
        success_record_time=row.success_record_time,
    )


_OUTLINE = (
    projects.c.id,
    projects.c.name,
    projects.c.status,
    projects.c.labels,
    projects.c.start_time,
    projects.c.create_time,
    projects.c.end_time,
    projects.c.success_succeeded,
    projects.c.success_score,
    projects.c.success_record_time,
)


# The statements the meta-model's reads run on every prediction, built once:
# SQLAlchemy then finds each compiled form by a key it computed once, instead
# of building and keying a new statement per call (about 0.4 ms each). `ids`
# is an expanding IN list.
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_OUTLINES_OF = select(*_OUTLINE).where(projects.c.id.in_(_IDS))
_MEMBERS_OF = (
    select(team_members)
    .where(team_members.c.project_id.in_(_IDS))
    .order_by(team_members.c.project_id, team_members.c.join_time, team_members.c.id)
)
# What a usage row says, in both directions (by the using project, of an artifact).
_USAGE = (
    artifact_usages.c.artifact_id,
    artifact_usages.c.project_id,
    artifact_usages.c.outcome,
    artifact_usages.c.use_time,
)
_USES_BY = (
    select(*_USAGE, artifacts.c.origin_project_id)
    .select_from(artifact_usages.join(artifacts, artifacts.c.id == artifact_usages.c.artifact_id))
    .where(artifact_usages.c.project_id.in_(_IDS))
    .order_by(artifact_usages.c.project_id, artifact_usages.c.use_time, artifact_usages.c.id)
)
_USES_OF = (
    select(
        *_USAGE,
        projects.c.success_succeeded,
        projects.c.success_score,
        projects.c.success_record_time,
    )
    .select_from(artifact_usages.join(projects, projects.c.id == artifact_usages.c.project_id))
    .where(artifact_usages.c.artifact_id.in_(_IDS))
    .order_by(artifact_usages.c.use_time, artifact_usages.c.id)
)
_CREATED_BY = select(artifacts.c.origin_project_id, artifacts.c.create_time).where(
    artifacts.c.origin_project_id.in_(_IDS)
)


class RegistryReadStore:
    """Reads for other contexts; each call on a read connection of its own."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def existing_projects(self, ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        found: set[uuid.UUID] = set()
        async with self.db.read() as conn:
            for chunk in _chunks(ids):
                rows = await conn.execute(select(projects.c.id).where(projects.c.id.in_(chunk)))
                found.update(row.id for row in rows)
        return found

    async def artifact_origins(
        self, ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, uuid.UUID | None]:
        found: dict[uuid.UUID, uuid.UUID | None] = {}
        async with self.db.read() as conn:
            for chunk in _chunks(ids):
                rows = await conn.execute(
                    select(artifacts.c.id, artifacts.c.origin_project_id).where(
                        artifacts.c.id.in_(chunk), artifacts.c.delete_time.is_(None)
                    )
                )
                found.update((row.id, row.origin_project_id) for row in rows)
        return found

    async def member_projects(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        found: dict[uuid.UUID, uuid.UUID] = {}
        async with self.db.read() as conn:
            for chunk in _chunks(ids):
                rows = await conn.execute(
                    select(team_members.c.id, team_members.c.project_id).where(
                        team_members.c.id.in_(chunk)
                    )
                )
                found.update((row.id, row.project_id) for row in rows)
        return found

    async def outlines(self, ids: Collection[uuid.UUID] | None) -> list[ProjectOutline]:
        async with self.db.read() as conn:
            if ids is None:
                rows = await conn.execute(select(*_OUTLINE).order_by(projects.c.id))
                return [_outline(row) for row in rows]
            out: list[ProjectOutline] = []
            for chunk in _chunks(ids):
                rows = await conn.execute(_OUTLINES_OF, {"ids": chunk})
                out.extend(_outline(row) for row in rows)
        return sorted(out, key=lambda p: str(p.id))

    async def members(self, project_ids: Collection[uuid.UUID]) -> list[TeamMember]:
        out: list[TeamMember] = []
        async with self.db.read() as conn:
            for chunk in _chunks(project_ids):
                rows = await conn.execute(_MEMBERS_OF, {"ids": chunk})
                out.extend(member_from_row(row) for row in rows)
        return out

    async def current_memberships(self, exclude: uuid.UUID) -> list[tuple[TeamMember, str]]:
        """Memberships with no leave time on projects neither completed nor cancelled (but
        `exclude`), each with its project's name."""
        query = (
            select(team_members, projects.c.name.label("project_name"))
            .join(projects, projects.c.id == team_members.c.project_id)
            .where(
                team_members.c.leave_time.is_(None),
                projects.c.status.not_in(["completed", "cancelled"]),
                team_members.c.project_id != exclude,
            )
            .order_by(team_members.c.project_id, team_members.c.id)
        )
        async with self.db.read() as conn:
            return [(member_from_row(r), r.project_name) for r in await conn.execute(query)]

    async def uses_by(self, project_ids: Collection[uuid.UUID]) -> list[ProjectUse]:
        out: list[ProjectUse] = []
        async with self.db.read() as conn:
            for chunk in _chunks(project_ids):
                rows = await conn.execute(_USES_BY, {"ids": chunk})
                out.extend(
                    ProjectUse(
                        artifact_id=row.artifact_id,
                        project_id=row.project_id,
                        outcome=UsageOutcome(row.outcome),
                        use_time=row.use_time,
                        origin_project_id=row.origin_project_id,
                    )
                    for row in rows
                )
        return out

    async def uses_of(self, artifact_ids: Collection[uuid.UUID]) -> list[ArtifactUse]:
        out: list[ArtifactUse] = []
        async with self.db.read() as conn:
            for chunk in _chunks(artifact_ids):
                rows = await conn.execute(_USES_OF, {"ids": chunk})
                out.extend(
                    ArtifactUse(
                        artifact_id=row.artifact_id,
                        project_id=row.project_id,
                        outcome=UsageOutcome(row.outcome),
                        use_time=row.use_time,
                        project_succeeded=row.success_succeeded,
                        project_score=row.success_score,
                        project_record_time=row.success_record_time,
                    )
                    for row in rows
                )
        return out

    async def created_by(self, project_ids: Sequence[uuid.UUID]) -> list[CreatedArtifact]:
        out: list[CreatedArtifact] = []
        async with self.db.read() as conn:
            for chunk in _chunks(project_ids):
                rows = await conn.execute(_CREATED_BY, {"ids": chunk})
                out.extend(CreatedArtifact(row.origin_project_id, row.create_time) for row in rows)
        return out

    async def outcomes(
        self, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[bool | None, float | None, Any]]:
        """Recorded outcomes by project: one query, however many ids."""
        c = projects.c
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(c.id, c.success_succeeded, c.success_score, c.success_record_time).where(
                    c.success_record_time.is_not(None), uuid_in(c.id, ids, conn.dialect.name)
                )
            )
            return {r[0]: (r[1], r[2], r[3]) for r in rows}
