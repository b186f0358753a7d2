"""RecommendTeam's pool: drawn from the people directory, or the caller's with the
directory's person behind each candidate (so that their linked memberships count).

A directory candidate is an active person of the directory: their UUID, name and
skills; the role of their latest membership (OTHER without one) and the most years
of experience any membership records. Their availability starts at 1 and is capped
by their allocations elsewhere like anyone's (`availability.cap`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from maestro_grpc.people.model import PeopleQuery, Person
from maestro_grpc.prediction.model import Candidate, DirectoryPool
from maestro_grpc.registry.model import PersonRef, TeamMember, TeamRole
from maestro_grpc.registry.read import RegistryReader

MAX_YEARS = 70.0


class People(Protocol):
    """What RecommendTeam reads of the people directory (its read API, wired in app.py)."""

    async def available(self, query: PeopleQuery, limit: int = 1000) -> list[Person]: ...

    async def resolve(self, ref: str) -> PersonRef | None: ...


async def from_directory(
    people: People, registry: RegistryReader, pool: DirectoryPool
) -> list[Candidate]:
    """The directory's active people matching the pool's skills, by handle."""
    found = await people.available(PeopleQuery(skills=pool.skills), limit=pool.max_candidates)
    latest: dict[uuid.UUID, TeamMember] = {}
    years: dict[uuid.UUID, float] = {}
    for held in await registry.memberships_of_people([p.id for p in found]):
        member = held.member
        if member.directory_person_id is None:
            continue
        latest[member.directory_person_id] = member  # by join time: the last one wins
        before = years.get(member.directory_person_id, 0.0)
        years[member.directory_person_id] = max(before, float(member.years_experience))
    return [
        Candidate(
            person_id=str(p.id),
            display_name=p.display_name,
            role=(latest[p.id].role if p.id in latest else TeamRole.OTHER).value,
            years_experience=min(years.get(p.id, 0.0), MAX_YEARS),
            skills=frozenset(s.skill.lower() for s in p.skills),
            availability=1.0,
        )
        for p in found
    ]


async def persons_of(people: People, candidates: Sequence[Candidate]) -> dict[str, uuid.UUID]:
    """The directory's person each candidate's person_id names (UUID, e-mail or handle)."""
    out: dict[str, uuid.UUID] = {}
    for candidate in candidates:
        ref = await people.resolve(candidate.person_id)
        if ref is not None:
            out[candidate.person_id] = ref.id
    return out
