"""The SQL behind what the people directory reads of the registry (`registry/read.py`).

A person's memberships, their current allocations, the artifacts they made
and used (by the names the registry stores: `creator`, `used_by`), and the
memberships that refer to no person.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import and_, func, select

from maestro_grpc.paging import Cursor
from maestro_grpc.registry.model import UsageOutcome
from maestro_grpc.registry.outward import MadeArtifact, PersonMembership, PersonUse, UnlinkedMember
from maestro_grpc.registry.store.rows import member_from_row
from maestro_grpc.registry.store.tables import (
    artifact_usages,
    artifacts,
    projects,
    team_member_link_report,
    team_members,
)
from maestro_grpc.store.db import Database


def _lowered(names: Collection[str]) -> list[str]:
    return sorted({n.strip().lower() for n in names if n.strip()})


class PeopleReadStore:
    """Reads for the directory; each method one read."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def memberships(self, person_id: uuid.UUID) -> list[PersonMembership]:
        return await self.memberships_of_people([person_id])

    async def memberships_of_people(
        self, person_ids: Collection[uuid.UUID]
    ) -> list[PersonMembership]:
        """Every membership linked to one of these people, by join time."""
        if not person_ids:
            return []
        query = (
            select(team_members, projects.c.name.label("project_name"))
            .join(projects, projects.c.id == team_members.c.project_id)
            .where(team_members.c.directory_person_id.in_(sorted(set(person_ids), key=str)))
            .order_by(team_members.c.join_time, team_members.c.id)
        )
        async with self.db.read() as conn:
            rows = list(await conn.execute(query))
        return [PersonMembership(member_from_row(r), r.project_name) for r in rows]

    async def allocations(self, person_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, float]:
        """Each person's sum of current allocations (absent: on no current team).

        Current is what RecommendTeam counts (`prediction/domain/availability.py`):
        no leave time, on a project neither completed nor cancelled."""
        if not person_ids:
            return {}
        query = (
            select(team_members.c.directory_person_id, func.sum(team_members.c.allocation))
            .join(projects, projects.c.id == team_members.c.project_id)
            .where(
                team_members.c.directory_person_id.in_(sorted(set(person_ids), key=str)),
                team_members.c.leave_time.is_(None),
                projects.c.status.not_in(["completed", "cancelled"]),
            )
            .group_by(team_members.c.directory_person_id)
        )
        async with self.db.read() as conn:
            return {pid: float(total) for pid, total in await conn.execute(query)}

    async def made_by(self, names: Collection[str]) -> list[MadeArtifact]:
        """Live artifacts whose creator is one of `names` (compared lower-cased), newest first."""
        wanted = _lowered(names)
        if not wanted:
            return []
        query = (
            select(
                artifacts.c.id,
                artifacts.c.name,
                artifacts.c.version,
                artifacts.c.origin_project_id,
                artifacts.c.create_time,
            )
            .where(func.lower(artifacts.c.creator).in_(wanted), artifacts.c.delete_time.is_(None))
            .order_by(artifacts.c.create_time.desc(), artifacts.c.id)
        )
        async with self.db.read() as conn:
            rows = list(await conn.execute(query))
        return [
            MadeArtifact(r.id, r.name, r.version, r.origin_project_id, r.create_time) for r in rows
        ]

    async def used_by(self, names: Collection[str]) -> list[PersonUse]:
        """Usages logged by one of `names` (compared lower-cased), by time."""
        wanted = _lowered(names)
        if not wanted:
            return []
        query = (
            select(
                artifact_usages.c.artifact_id,
                artifacts.c.name,
                artifacts.c.version,
                artifact_usages.c.project_id,
                artifact_usages.c.outcome,
            )
            .join(artifacts, artifacts.c.id == artifact_usages.c.artifact_id)
            .where(func.lower(artifact_usages.c.used_by).in_(wanted))
            .order_by(artifact_usages.c.use_time, artifact_usages.c.id)
        )
        async with self.db.read() as conn:
            rows = list(await conn.execute(query))
        return [
            PersonUse(r.artifact_id, r.name, r.version, r.project_id, UsageOutcome(r.outcome))
            for r in rows
        ]

    async def artifacts(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, MadeArtifact]:
        """Live artifacts among `ids`, by id."""
        if not ids:
            return {}
        query = select(
            artifacts.c.id,
            artifacts.c.name,
            artifacts.c.version,
            artifacts.c.origin_project_id,
            artifacts.c.create_time,
        ).where(artifacts.c.id.in_(sorted(set(ids), key=str)), artifacts.c.delete_time.is_(None))
        async with self.db.read() as conn:
            rows = list(await conn.execute(query))
        return {
            r.id: MadeArtifact(r.id, r.name, r.version, r.origin_project_id, r.create_time)
            for r in rows
        }

    async def unlinked(self, page_size: int, after: Cursor | None) -> list[UnlinkedMember]:
        """Up to `page_size` + 1 memberships of no person, by id after `after`."""
        query = (
            select(team_members, team_member_link_report.c.reason)
            .outerjoin(
                team_member_link_report,
                team_member_link_report.c.team_member_id == team_members.c.id,
            )
            .where(team_members.c.directory_person_id.is_(None))
            .order_by(team_members.c.id)
            .limit(page_size + 1)
        )
        if after is not None:
            query = query.where(and_(team_members.c.id > uuid.UUID(after.id)))
        async with self.db.read() as conn:
            rows = list(await conn.execute(query))
        return [UnlinkedMember(member_from_row(r), r.reason or "") for r in rows]
