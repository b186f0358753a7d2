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


# ---- discussion, follows, the feed ---------------------------------------------------------


class SubjectKind(enum.Enum):
    PROJECT = "project"
    ARTIFACT = "artifact"
    PERSON = "person"
    TAG = "tag"


class CommentState(enum.Enum):
    VISIBLE = "visible"
    HIDDEN = "hidden"
    DELETED = "deleted"


@dataclass(frozen=True)
class CommentEdit:
    body: str
    edit_time: datetime


@dataclass(frozen=True)
class Comment:
    id: uuid.UUID
    subject_kind: SubjectKind
    subject_id: uuid.UUID
    project_id: uuid.UUID | None
    parent_id: uuid.UUID | None
    author_person_id: uuid.UUID
    body: str
    mentioned: tuple[uuid.UUID, ...]
    state: CommentState
    edits: tuple[CommentEdit, ...]
    create_time: datetime
    update_time: datetime


@dataclass(frozen=True)
class NewComment:
    subject_kind: SubjectKind
    subject_id: uuid.UUID
    project_id: uuid.UUID | None
    parent_id: uuid.UUID | None
    author_person_id: uuid.UUID
    body: str
    mentioned: tuple[uuid.UUID, ...]


@dataclass(frozen=True)
class Review:
    id: uuid.UUID
    artifact_id: uuid.UUID
    person_id: uuid.UUID
    rating: int
    text: str
    create_time: datetime
    update_time: datetime


@dataclass(frozen=True)
class ReviewSummary:
    average: float
    count: int


@dataclass(frozen=True)
class Target:
    """What an event is about or a person follows: (kind, key)."""

    kind: str  # project, artifact (by name), person, tag, inbox
    key: str


@dataclass(frozen=True)
class NewEvent:
    kind: str
    summary: str
    targets: tuple[Target, ...]
    project_id: uuid.UUID | None = None
    artifact_id: uuid.UUID | None = None
    comment_id: uuid.UUID | None = None
    actor_person_id: uuid.UUID | None = None
    dedupe_key: str | None = None


@dataclass(frozen=True)
class Event:
    seq: int
    kind: str
    summary: str
    project_id: uuid.UUID | None
    artifact_id: uuid.UUID | None
    comment_id: uuid.UUID | None
    actor_person_id: uuid.UUID | None
    create_time: datetime
    read: bool = False


@dataclass(frozen=True)
class FeedPage:
    events: list[Event]
    next_before: int | None
    unread: int


# ---- webhooks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookFields:
    name: str
    url: str
    format: str  # json, slack
    kinds: tuple[str, ...]  # empty: every kind
    max_attempts: int


@dataclass(frozen=True)
class Webhook:
    id: uuid.UUID
    name: str
    url: str
    format: str
    kinds: tuple[str, ...]
    max_attempts: int
    active: bool
    create_time: datetime


@dataclass(frozen=True)
class Delivery:
    webhook_id: uuid.UUID
    event_seq: int
    kind: str
    state: str  # pending, delivered, dead
    attempts: int
    last_status_code: int
    last_error: str
    next_attempt_time: datetime
    deliver_time: datetime | None

    @property
    def id(self) -> str:
        return f"{self.webhook_id}:{self.event_seq}"


@dataclass(frozen=True)
class DueDelivery:
    """A leased delivery with what sending it needs."""

    webhook_id: uuid.UUID
    url: str
    format: str
    secret: str
    max_attempts: int
    attempts: int
    event: Event

    @property
    def id(self) -> str:
        return f"{self.webhook_id}:{self.event.seq}"


@dataclass(frozen=True)
class Outcome:
    """How one attempt went: a status (0: no answer) and an error for people."""

    delivery: DueDelivery
    status: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300
