"""The people context's records: people, their skills, and what a profile shows."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime


class SkillLevel(enum.IntEnum):
    """How well a person knows a skill (ordered: a search asks for a least level)."""

    BEGINNER = 1
    INTERMEDIATE = 2
    ADVANCED = 3
    EXPERT = 4


@dataclass(frozen=True)
class PersonSkill:
    skill: str
    level: SkillLevel = SkillLevel.INTERMEDIATE


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    display_name: str
    email: str
    handle: str
    skills: tuple[PersonSkill, ...]
    time_zone: str
    active: bool
    create_time: datetime
    update_time: datetime
    # 1 minus the sum of current allocations, never below 0 (filled by the domain).
    availability: float = 1.0


@dataclass
class PersonFields:
    display_name: str = ""
    email: str = ""
    handle: str = ""
    skills: tuple[PersonSkill, ...] = ()
    time_zone: str = ""
    active: bool = True


@dataclass(frozen=True)
class PeopleQuery:
    """SearchPeople's filter."""

    skills: tuple[str, ...] = ()
    min_level: SkillLevel | None = None
    min_availability: float = 0.0
    include_inactive: bool = False


@dataclass(frozen=True)
class Membership:
    member_id: uuid.UUID
    project_id: uuid.UUID
    project_name: str
    role: str
    allocation: float
    join_time: datetime
    leave_time: datetime | None
    skills: tuple[str, ...]


@dataclass(frozen=True)
class Made:
    artifact_id: uuid.UUID
    name: str
    version: str


@dataclass
class Uses:
    """How a person's uses of one artifact went."""

    artifact_id: uuid.UUID
    name: str
    version: str
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


@dataclass(frozen=True)
class Experience:
    skill: str
    projects: int
    years: float
    level: SkillLevel | None


@dataclass(frozen=True)
class Profile:
    person: Person
    memberships: list[Membership]
    made: list[Made]
    used: list[Uses]
    experience: list[Experience]
    current_allocation: float


@dataclass(frozen=True)
class Unlinked:
    member_id: uuid.UUID
    project_id: uuid.UUID
    person_id: str
    display_name: str
    reason: str
