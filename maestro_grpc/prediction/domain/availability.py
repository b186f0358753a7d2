"""RecommendTeam's availability: a caller's figure capped by what the store knows.

Team members are rows per project, so the same person is found by a rule
(the people directory will later give one id): equal person ids (trimmed,
case-insensitive) always match; otherwise, unless both ids are e-mail
addresses (they then differ: different people), equal display names
(case-insensitive, spaces collapsed) match. A candidate may give at most
1 minus the allocations of their current memberships elsewhere; one with
less than MIN_AVAILABILITY left is not searched at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
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


@dataclass
class Directory:
    """Current memberships elsewhere, indexed by person id and by name."""

    by_id: dict[str, list[tuple[TeamMember, str]]]
    by_name: dict[str, list[tuple[TeamMember, str]]]

    @classmethod
    def of(cls, memberships: Sequence[tuple[TeamMember, str]]) -> Directory:
        by_id: dict[str, list[tuple[TeamMember, str]]] = defaultdict(list)
        by_name: dict[str, list[tuple[TeamMember, str]]] = defaultdict(list)
        for member, project in memberships:
            by_id[_id(member.person_id)].append((member, project))
            if _name(member.display_name):
                by_name[_name(member.display_name)].append((member, project))
        return cls(by_id, by_name)

    def memberships_of(self, candidate: Candidate) -> list[tuple[TeamMember, str]]:
        """The candidate's current memberships elsewhere, by the matching rule."""
        found = {m.id: (m, p) for m, p in self.by_id.get(_id(candidate.person_id), [])}
        name = _name(candidate.display_name)
        for member, project in self.by_name.get(name, []) if name else []:
            if not (_email(candidate.person_id) and _email(member.person_id)):
                found.setdefault(member.id, (member, project))
        return list(found.values())


def cap(
    candidates: Sequence[Candidate], memberships: Sequence[tuple[TeamMember, str]]
) -> tuple[list[Candidate], list[Availability]]:
    """The candidates the search may use (their availability capped), and what changed."""
    directory = Directory.of(memberships)
    kept: list[Candidate] = []
    changes: list[Availability] = []
    for candidate in candidates:
        found = directory.memberships_of(candidate)
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
