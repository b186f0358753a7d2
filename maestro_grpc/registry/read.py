"""The registry's read API for other contexts: projects, teams, usages, as plain records.

Prediction learns from these and Metrics checks project ids against them;
neither touches the registry's tables. Every call reads on a connection of
its own: a caller that needs several reads gets each as committed when it
ran (the same as PostgreSQL's autocommit reads elsewhere).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence

from maestro_grpc.paging import Cursor
from maestro_grpc.registry.impact import UsageSignal, impact_score
from maestro_grpc.registry.model import TeamMember
from maestro_grpc.registry.outward import (
    ArtifactUse,
    CreatedArtifact,
    MadeArtifact,
    PersonMembership,
    PersonUse,
    ProjectOutcome,
    ProjectOutline,
    ProjectUse,
    UnlinkedMember,
)
from maestro_grpc.registry.store.people_read import PeopleReadStore
from maestro_grpc.registry.store.read import RegistryReadStore
from maestro_grpc.store.db import Database

__all__ = [
    "ArtifactUse",
    "CreatedArtifact",
    "MadeArtifact",
    "PersonMembership",
    "PersonUse",
    "ProjectOutcome",
    "ProjectOutline",
    "ProjectUse",
    "RegistryReader",
    "TeamMember",
    "UnlinkedMember",
    "UsageSignal",
    "impact_score",
]


class RegistryReader:
    """What other contexts may read of the registry."""

    def __init__(self, db: Database) -> None:
        self._store = RegistryReadStore(db)
        self._people = PeopleReadStore(db)

    async def existing_projects(self, ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Those of `ids` that are projects."""
        if not ids:
            return set()
        return await self._store.existing_projects(ids)

    async def project_exists(self, project_id: uuid.UUID) -> bool:
        return bool(await self._store.existing_projects([project_id]))

    async def artifact_origins(
        self, ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, uuid.UUID | None]:
        """Live artifacts among `ids` -> their origin project (None: of no project)."""
        return await self._store.artifact_origins(ids) if ids else {}

    async def member_projects(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """Memberships among `ids` -> their project."""
        return dict(await self._store.member_projects(ids)) if ids else {}

    async def projects(self, ids: Collection[uuid.UUID] | None = None) -> list[ProjectOutline]:
        """Projects (all, or those of `ids` that exist), ordered by id."""
        return await self._store.outlines(ids)

    async def outcomes(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ProjectOutcome]:
        """The recorded outcomes of those of `ids` that have one, in one query."""
        if not ids:
            return {}
        found = await self._store.outcomes(ids)
        return {
            pid: ProjectOutcome(succeeded, score, recorded)
            for pid, (succeeded, score, recorded) in found.items()
        }

    async def team_members(
        self, project_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, list[TeamMember]]:
        """Every member each project ever had (former ones too), by join time."""
        found: dict[uuid.UUID, list[TeamMember]] = defaultdict(list)
        for member in await self._store.members(project_ids):
            found[member.project_id].append(member)
        return found

    async def current_memberships(self, exclude: uuid.UUID) -> list[tuple[TeamMember, str]]:
        """Everyone's current memberships (no leave time, on a project neither completed nor
        cancelled) but those of `exclude`, each with its project's name: who is busy where."""
        return await self._store.current_memberships(exclude)

    async def uses_by(self, project_ids: Collection[uuid.UUID]) -> list[ProjectUse]:
        """The usages these projects logged, by project and time."""
        return await self._store.uses_by(project_ids)

    async def uses_of(self, artifact_ids: Collection[uuid.UUID]) -> list[ArtifactUse]:
        """Every usage of these artifacts, with the using projects' outcomes, by time."""
        return await self._store.uses_of(artifact_ids)

    async def created_by(self, project_ids: Sequence[uuid.UUID]) -> list[CreatedArtifact]:
        """The artifacts these projects made (deleted ones too)."""
        return await self._store.created_by(project_ids)

    # ---- for the people directory ------------------------------------------------------

    async def memberships_of(self, person_id: uuid.UUID) -> list[PersonMembership]:
        """Every membership linked to this person (former ones too), by join time."""
        return await self._people.memberships(person_id)

    async def memberships_of_people(
        self, person_ids: Collection[uuid.UUID]
    ) -> list[PersonMembership]:
        """Every membership linked to one of these people (former ones too), by join time."""
        return await self._people.memberships_of_people(person_ids)

    async def allocations(self, person_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, float]:
        """Each person's sum of current allocations (absent: on no current team)."""
        return await self._people.allocations(person_ids)

    async def made_by(self, names: Collection[str]) -> list[MadeArtifact]:
        """Live artifacts whose creator is one of `names` (any case), newest first."""
        return await self._people.made_by(names)

    async def used_by(self, names: Collection[str]) -> list[PersonUse]:
        """Usages whose `used_by` is one of `names` (any case), by time."""
        return await self._people.used_by(names)

    async def artifacts(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, MadeArtifact]:
        """Live artifacts among `ids` (name, version, origin), by id."""
        return await self._people.artifacts(ids)

    async def unlinked_members(self, page_size: int, after: Cursor | None) -> list[UnlinkedMember]:
        """Up to `page_size` + 1 memberships of no person, by id, after `after`."""
        return await self._people.unlinked(page_size, after)
