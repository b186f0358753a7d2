"""RecommendTeam's availability: a caller's figure capped by what the store knows.

Whose memberships count for a candidate: a membership linked to a person of
the directory counts for the candidate that is that person (`persons` maps
a candidate's person_id to the person it names), and for no one else. An
unlinked membership is found by a rule: equal person ids (trimmed,
case-insensitive) always match; otherwise, unless both ids are e-mail
addresses (they then differ: different people), equal display names
(case-insensitive, spaces collapsed) match. A candidate may give at most 1
minus the allocations of their current memberships elsewhere; one with less
than MIN_AVAILABILITY left is not searched at all.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from maestro_grpc.prediction.model import Availability, Candidate
from maestro_grpc.registry.read import TeamMember

MIN_AVAILABILITY = 0.1


def _id(person_id: str) -> str:
    return person_id.strip().lower()


def _name(display_name: str) -> str:
    return " ".join(display_name.split()).casefold()


def _email(person_id: str) -> bool:
    return "@" in person_id


Found = tuple[TeamMember, str]


@dataclass
class Directory:
    """Current memberships elsewhere: linked ones by person, unlinked ones by id and name."""

    by_person: dict[uuid.UUID, list[Found]]
    by_id: dict[str, list[Found]]
    by_name: dict[str, list[Found]]

    @classmethod
    def of(cls, memberships: Sequence[Found]) -> Directory:
        by_person: dict[uuid.UUID, list[Found]] = defaultdict(list)
        by_id: dict[str, list[Found]] = defaultdict(list)
        by_name: dict[str, list[Found]] = defaultdict(list)
        for member, project in memberships:
            if member.directory_person_id is not None:
                by_person[member.directory_person_id].append((member, project))
                continue
            by_id[_id(member.person_id)].append((member, project))
            if _name(member.display_name):
                by_name[_name(member.display_name)].append((member, project))
        return cls(by_person, by_id, by_name)

    def memberships_of(self, candidate: Candidate, person: uuid.UUID | None = None) -> list[Found]:
        """The candidate's current memberships elsewhere, by the matching rule (`person`:
        the person of the directory the candidate is, if any)."""
        linked = self.by_person.get(person, []) if person is not None else []
        found = {m.id: (m, p) for m, p in linked}
        for m, p in self.by_id.get(_id(candidate.person_id), []):
            found.setdefault(m.id, (m, p))
        name = _name(candidate.display_name)
        for member, project in self.by_name.get(name, []) if name else []:
            if not (_email(candidate.person_id) and _email(member.person_id)):
                found.setdefault(member.id, (member, project))
        return list(found.values())


def cap(
    candidates: Sequence[Candidate],
    memberships: Sequence[Found],
    persons: Mapping[str, uuid.UUID] | None = None,
) -> tuple[list[Candidate], list[Availability]]:
    """The candidates the search may use (their availability capped), and what changed;
    `persons`: the directory's person of each candidate's person_id that names one."""
    directory = Directory.of(memberships)
    named = persons or {}
    kept: list[Candidate] = []
    changes: list[Availability] = []
    for candidate in candidates:
        found = directory.memberships_of(candidate, named.get(candidate.person_id))
        elsewhere = sum(m.allocation for m, _ in found)
        free = max(0.0, 1.0 - elsewhere)
        available = min(candidate.availability, free)
        excluded = available < MIN_AVAILABILITY - 1e-9
        if excluded or available < candidate.availability - 1e-9:
            changes.append(
                Availability(
                    person_id=candidate.person_id,
                    requested=candidate.availability,
                    allocated_elsewhere=elsewhere,
                    available=0.0 if excluded else available,
                    excluded=excluded,
                    projects=sorted({p for _, p in found}),
                )
            )
        if not excluded:
            kept.append(replace(candidate, availability=available))
    return kept, changes
