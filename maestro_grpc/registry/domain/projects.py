"""Projects, their teams and their outcomes: the rules, over the registry's store.

Every write drops the cached project it changes once its transaction has
ended (committed or not) and before the RPC answers, so a caller reads its
own writes at once (see project_cache.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from maestro_grpc.paging import Cursor, Page
from maestro_grpc.registry.domain.changes import notes, relay
from maestro_grpc.registry.domain.project_cache import ProjectCache
from maestro_grpc.registry.model import (
    PersonResolver,
    Project,
    ProjectFields,
    ProjectStatus,
    Success,
    TeamMember,
    TeamMemberFields,
    no_directory,
)
from maestro_grpc.registry.outward import RegistryChange, RegistryFeed
from maestro_grpc.registry.store.projects import ProjectStore
from maestro_grpc.registry.store.teams import TeamStore


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


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _check_leave(join: datetime, leave: datetime | None, field: str) -> None:
    if leave is not None and leave < join:
        raise InvalidArgument.for_field(field, "must not be before the join time")


class ProjectRegistry:
    """Create, read and update projects, record outcomes, manage teams."""

    def __init__(
        self,
        projects: ProjectStore,
        teams: TeamStore,
        *,
        clock: Clock = utcnow,
        cache: ProjectCache[Project] | None = None,
        people: PersonResolver = no_directory,
        changes: RegistryFeed | None = None,
    ) -> None:
        self.projects = projects
        self.teams = teams
        self.clock = clock
        self.people = people
        self.changes = changes
        self._cache: ProjectCache[Project] = cache if cache is not None else ProjectCache(0)

    # ---- projects --------------------------------------------------------

    async def create_project(
        self, fields: ProjectFields, *, request_id: str = "", fingerprint: str = ""
    ) -> Project:
        return await self.projects.create(
            fields, self.clock(), request_id=request_id, fingerprint=fingerprint
        )

    def get_project(self, project_id: uuid.UUID) -> Awaitable[Project]:
        """The project, from this replica's cache while that may answer (the same object
        on every hit), else from the store. (The cache's own awaitable: GetProject is the
        hottest read, and a coroutine of our own around it would cost a tenth of its time.)"""
        return self._cache.get_or_load(project_id, self.projects.get)

    async def list_projects(
        self,
        *,
        statuses: Sequence[ProjectStatus],
        labels: dict[str, str],
        page_size: int,
        after: Cursor | None,
        within: frozenset[uuid.UUID] | None = None,
    ) -> Page[Project]:
        """A page of projects; `within`: only these (a caller limited to some projects)."""
        return await self.projects.list(
            statuses=statuses, labels=labels, page_size=page_size, after=after, within=within
        )

    async def update_project(
        self, project_id: uuid.UUID, changes: dict[str, Any], etag: str = ""
    ) -> Project:
        """Change the fields in `changes`; with `etag`, only if nobody changed it since."""

        def changes_for(current: Project) -> dict[str, Any]:
            if etag and etag != current.etag:
                raise Aborted(
                    f"project {project_id} changed since etag {etag!r} "
                    f"(now {current.etag!r}); read it again and retry",
                    reason="ETAG_MISMATCH",
                )
            merged = {**asdict(_fields_of(current)), **changes}
            start, end = merged["start_time"], merged["end_time"]
            if start is not None and end is not None and end < start:
                raise InvalidArgument.for_field("project.end_time", "must not be before start_time")
            return changes

        def status_changed(project: Project) -> list[RegistryChange]:
            if "status" not in changes:
                return []
            status = project.status.value
            return [RegistryChange("project_status", project.id, f"{project.name} is now {status}")]

        with self._changing(project_id):
            project = await self.projects.update(
                project_id, changes_for, self.clock(), notes(self.changes, status_changed)
            )
        await relay(self.changes)
        return project

    async def record_success(self, project_id: uuid.UUID, success: Success) -> Project:
        ended = "succeeded" if success.succeeded else "did not succeed"

        def recorded(project: Project) -> list[RegistryChange]:
            return [RegistryChange("project_outcome", project.id, f"{project.name} {ended}")]

        with self._changing(project_id):
            project = await self.projects.record_success(
                project_id, success, self.clock(), notes(self.changes, recorded)
            )
        await relay(self.changes)
        return project

    def _team_notes(self, what: str, *, keyed: bool = False) -> Any:
        """The notes of a team change (`keyed`: a retried add is the same change)."""

        def changed(member: TeamMember) -> list[RegistryChange]:
            name = member.display_name or member.person_id
            key = f"team:{member.id}:joined" if keyed else ""
            return [
                RegistryChange(
                    "team_change", member.project_id, f"{name} {what}", key=key, member=member
                )
            ]

        return notes(self.changes, changed)

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
        if fields.join_time is None:
            # Joining now: the wire checked a leave time only against a given join time.
            _check_leave(now, fields.leave_time, "team_member.leave_time")
        fields = await self._linked(fields)
        with self._changing(project_id):
            member = await self.teams.add(
                project_id,
                fields,
                join_time=fields.join_time or now,
                now=now,
                request_id=request_id,
                fingerprint=fingerprint,
                notes=self._team_notes("joined the team", keyed=True),
            )
        await relay(self.changes)
        return member

    async def _linked(self, fields: TeamMemberFields) -> TeamMemberFields:
        """`fields` with the directory's person its `person_id` names (id, e-mail or
        handle), or as they are when it names none (a free-form id, as before the
        directory). An id of no person is a mistake worth hearing about."""
        person = await self.people(fields.person_id)
        if person is None:
            if _is_uuid(fields.person_id):
                raise NotFound(
                    f"no person {fields.person_id} in the directory", reason="PERSON_NOT_FOUND"
                )
            return fields
        if not person.active:
            raise FailedPrecondition(
                f"person {person.id} is inactive and cannot join a team", reason="PERSON_INACTIVE"
            )
        return replace(
            fields,
            directory_person_id=person.id,
            display_name=fields.display_name or person.display_name,
        )

    async def update_team_member(self, member_id: uuid.UUID, changes: dict[str, Any]) -> TeamMember:
        with self._changing() as changed:

            def changes_for(current: TeamMember) -> dict[str, Any]:
                changed.append(current.project_id)
                join_time = changes.get("join_time", current.join_time)
                leave_time = changes.get("leave_time", current.leave_time)
                _check_leave(join_time, leave_time, "team_member.leave_time")
                return changes

            member = await self.teams.update(
                member_id, changes_for, self.clock(), self._team_notes("changed on the team")
            )
        await relay(self.changes)
        return member

    async def remove_team_member(
        self, member_id: uuid.UUID, leave_time: datetime | None
    ) -> TeamMember:
        now = self.clock()
        with self._changing() as changed:

            def leave_time_for(current: TeamMember) -> datetime:
                changed.append(current.project_id)
                if current.leave_time is not None:
                    raise FailedPrecondition(
                        f"team member {member_id} already left at {current.leave_time.isoformat()}",
                        reason="ALREADY_LEFT",
                    )
                leave = leave_time or now
                _check_leave(current.join_time, leave, "leave_time")
                return leave

            member = await self.teams.remove(
                member_id, leave_time_for, now, self._team_notes("left the team")
            )
        await relay(self.changes)
        return member

    async def list_team_members(
        self,
        project_id: uuid.UUID,
        *,
        include_former: bool,
        page_size: int,
        after: Cursor | None,
    ) -> Page[TeamMember]:
        return await self.teams.list(
            project_id, include_former=include_former, page_size=page_size, after=after
        )

    @contextmanager
    def _changing(self, *project_ids: uuid.UUID) -> Iterator[list[uuid.UUID]]:
        """Around a write transaction: drop the cached projects it changes (those given,
        and those added to the list meanwhile) once it has ended, committed or not."""
        changed = list(project_ids)
        try:
            yield changed
        finally:
            for project_id in changed:
                self._cache.invalidate(project_id)
