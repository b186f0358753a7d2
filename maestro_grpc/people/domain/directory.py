"""The directory's operations: people, their search by skill and availability, profiles.

Availability and the profile's history come from the registry's read API
(memberships link to people there); the directory never reads the
registry's tables itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.paging import Cursor, Page
from maestro_grpc.people.model import (
    Experience,
    Made,
    Membership,
    PeopleQuery,
    Person,
    PersonFields,
    Profile,
    Unlinked,
    Uses,
)
from maestro_grpc.people.store.people import PeopleStore
from maestro_grpc.registry.read import PersonMembership, RegistryReader

YEAR_SECONDS = 365.25 * 24 * 3600


def _available(allocation: float) -> float:
    return max(0.0, 1.0 - allocation)


def _visible(project_id: uuid.UUID | None, within: frozenset[uuid.UUID] | None) -> bool:
    return within is None or (project_id is not None and project_id in within)


def experience(
    person: Person, memberships: Sequence[PersonMembership], now: datetime
) -> list[Experience]:
    """Per skill: the projects whose membership lists it and the years spent on them
    (join to leave or now, times the allocation); the person's own skills appear even
    without history. Most years first."""
    projects: dict[str, set[uuid.UUID]] = {}
    years: dict[str, float] = {}
    for m in memberships:
        member = m.member
        end = member.leave_time or now
        spent = max(0.0, (end - member.join_time).total_seconds()) / YEAR_SECONDS
        for skill in member.skills:
            projects.setdefault(skill, set()).add(member.project_id)
            years[skill] = years.get(skill, 0.0) + spent * member.allocation
    levels = {s.skill: s.level for s in person.skills}
    for skill in levels:
        projects.setdefault(skill, set())
    out = [
        Experience(skill, len(ids), round(years.get(skill, 0.0), 4), levels.get(skill))
        for skill, ids in projects.items()
    ]
    return sorted(out, key=lambda e: (-e.years, -e.projects, e.skill))


class Directory:
    def __init__(self, store: PeopleStore, registry: RegistryReader, *, clock: Clock = utcnow):
        self.store = store
        self.registry = registry
        self.clock = clock

    async def _with_availability(self, found: Sequence[Person]) -> list[Person]:
        allocations = await self.registry.allocations([p.id for p in found])
        return [replace(p, availability=_available(allocations.get(p.id, 0.0))) for p in found]

    async def create(
        self, fields: PersonFields, *, request_id: str = "", fingerprint: str = ""
    ) -> Person:
        person = await self.store.create(
            fields, self.clock(), request_id=request_id, fingerprint=fingerprint
        )
        return (await self._with_availability([person]))[0]

    async def get(self, person_id: uuid.UUID) -> Person:
        return (await self._with_availability([await self.store.get(person_id)]))[0]

    async def update(self, person_id: uuid.UUID, changes: dict[str, Any]) -> Person:
        person = await self.store.update(person_id, dict(changes), self.clock())
        return (await self._with_availability([person]))[0]

    async def search(
        self, query: PeopleQuery, page_size: int, after: Cursor | None
    ) -> Page[Person]:
        """A page of matching people; availability is a filter on what the store finds,
        so the store is read in batches until the page is full (keyset, by handle)."""
        out: list[Person] = []
        cursor = after
        batch = max(page_size + 1, 100)
        while len(out) <= page_size:
            found = await self.store.search(query, batch, cursor)
            for person in await self._with_availability(found):
                if person.availability + 1e-9 >= query.min_availability:
                    out.append(person)
            if len(found) < batch:
                break
            cursor = Cursor(key=found[-1].handle, id=str(found[-1].id))
        if len(out) <= page_size:
            return Page(items=out, next_cursor=None)
        last = out[page_size - 1]
        return Page(items=out[:page_size], next_cursor=Cursor(key=last.handle, id=str(last.id)))

    async def profile(self, person_id: uuid.UUID, within: frozenset[uuid.UUID] | None) -> Profile:
        """The person's history, limited to the projects `within` (None: every one)."""
        person = await self.get(person_id)
        names = [str(person.id), person.email, person.handle]
        history = [
            m
            for m in await self.registry.memberships_of(person_id)
            if _visible(m.member.project_id, within)
        ]
        made = [
            Made(a.id, a.name, a.version)
            for a in await self.registry.made_by(names)
            # The library is shared: what they made shows unless it belongs to a
            # project the caller may not see.
            if a.origin_project_id is None or _visible(a.origin_project_id, within)
        ]
        uses: dict[uuid.UUID, Uses] = {}
        for use in await self.registry.used_by(names):
            if not _visible(use.project_id, within):
                continue
            entry = uses.setdefault(use.artifact_id, Uses(use.artifact_id, use.name, use.version))
            entry.outcomes[use.outcome.value] = entry.outcomes.get(use.outcome.value, 0) + 1
        # Over every current team, seen or not: it is the person's time, as availability is.
        current = (await self.registry.allocations([person_id])).get(person_id, 0.0)
        memberships = [
            Membership(
                m.member.id,
                m.member.project_id,
                m.project_name,
                m.member.role.value,
                m.member.allocation,
                m.member.join_time,
                m.member.leave_time,
                m.member.skills,
            )
            for m in history
        ]
        return Profile(
            person=person,
            memberships=memberships,
            made=made,
            used=sorted(uses.values(), key=lambda u: (-u.total, u.name, str(u.artifact_id))),
            experience=experience(person, history, self.clock()),
            current_allocation=round(current, 6),
        )

    async def unlinked(self, page_size: int, after: Cursor | None) -> Page[Unlinked]:
        rows = await self.registry.unlinked_members(page_size, after)
        items = [
            Unlinked(
                r.member.id,
                r.member.project_id,
                r.member.person_id,
                r.member.display_name,
                r.reason or "no person of the directory has this id, e-mail or handle",
            )
            for r in rows[:page_size]
        ]
        cursor = None
        if len(rows) > page_size:
            last = str(items[-1].member_id)
            cursor = Cursor(key=last, id=last)
        return Page(items=items, next_cursor=cursor)
