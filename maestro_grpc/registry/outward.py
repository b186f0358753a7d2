"""What the registry shows other contexts: the records `registry/read.py` returns,
what the people directory reads, and the changes followers hear about.

Plain dataclasses; nothing here does I/O. The registry's own records are in
`registry/model.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from maestro_grpc.registry.model import Artifact, ProjectStatus, TeamMember, UsageOutcome

# ---- what other contexts read (registry/read.py) -------------------------------------------


@dataclass(frozen=True)
class ProjectOutline:
    """A project's own fields without its team: what other contexts learn from."""

    id: uuid.UUID
    name: str
    status: ProjectStatus
    labels: dict[str, str]
    start_time: datetime | None
    create_time: datetime
    end_time: datetime | None
    succeeded: bool | None  # None until an outcome is recorded
    score: float | None
    success_record_time: datetime | None


@dataclass(frozen=True)
class ProjectOutcome:
    """A project's recorded outcome, as other contexts read it (experiments)."""

    succeeded: bool | None
    score: float | None
    record_time: datetime


@dataclass(frozen=True)
class ProjectUse:
    """One usage logged by a project, with the used artifact's origin project."""

    artifact_id: uuid.UUID
    project_id: uuid.UUID
    outcome: UsageOutcome
    use_time: datetime
    origin_project_id: uuid.UUID | None


@dataclass(frozen=True)
class ArtifactUse:
    """One usage of an artifact, with the using project's recorded outcome (if any)."""

    artifact_id: uuid.UUID
    project_id: uuid.UUID
    outcome: UsageOutcome
    use_time: datetime
    project_succeeded: bool | None
    project_score: float | None
    project_record_time: datetime | None


@dataclass(frozen=True)
class CreatedArtifact:
    """An artifact a project made, and when."""

    origin_project_id: uuid.UUID
    create_time: datetime


# ---- what the people directory reads of the registry (people/domain) -----------------


@dataclass(frozen=True)
class PersonMembership:
    """One membership of a person of the directory, with its project's name."""

    member: TeamMember
    project_name: str


@dataclass(frozen=True)
class MadeArtifact:
    """A live artifact whose creator names a person."""

    id: uuid.UUID
    name: str
    version: str
    origin_project_id: uuid.UUID | None
    create_time: datetime


@dataclass(frozen=True)
class PersonUse:
    """A usage logged by a person (its `used_by` names them)."""

    artifact_id: uuid.UUID
    name: str
    version: str
    project_id: uuid.UUID
    outcome: UsageOutcome


@dataclass(frozen=True)
class UnlinkedMember:
    """A membership of no person of the directory, and why (empty: added unlinked)."""

    member: TeamMember
    reason: str


# ---- changes others hear about (the activity feed, wired in app.py) ----------------------


@dataclass(frozen=True)
class RegistryChange:
    """A registry write worth telling followers about (its note commits with it)."""

    kind: str  # artifact_version, project_status, project_outcome, team_change, usage
    project_id: uuid.UUID | None
    summary: str
    # What makes a repeat (a retried create) the same change; "" for none.
    key: str = ""
    artifact: Artifact | None = None
    member: TeamMember | None = None


@dataclass(frozen=True)
class RegistryFeed:
    """Who hears of the registry's changes (app.py wires the people context's feed).

    Each change is written as a note (`change_note`) in its write's own transaction
    (the outbox, store/outbox.py); `relay` is called once the write committed, to
    move the notes into the feed at once (a sweep moves those it never did)."""

    # The directory's person the current call acts as (None: no person).
    actor: Callable[[], uuid.UUID | None]
    relay: Callable[[], Awaitable[None]]


def change_note(change: RegistryChange, actor: uuid.UUID | None) -> dict[str, Any]:
    """A change as the outbox keeps it (JSON): what the feed's event is made of. A change
    with no key of its own gets a new one, so that relaying it twice records it once."""
    artifact, member = change.artifact, change.member
    linked = member.directory_person_id if member is not None else None
    return {
        "kind": change.kind,
        "project_id": str(change.project_id) if change.project_id else None,
        "summary": change.summary,
        "key": change.key or f"note:{uuid.uuid4()}",
        "actor_person_id": str(actor) if actor else None,
        "artifact_id": str(artifact.id) if artifact else None,
        "artifact_name": artifact.name if artifact else None,
        "artifact_tags": list(artifact.tags) if artifact else [],
        "artifact_creator": artifact.creator if artifact else "",
        "member_person_id": str(linked) if linked else None,
    }


# Each artifact's (mean rating, review count), for those of the ids that have reviews.
ReviewSummaries = Callable[[Sequence[uuid.UUID]], Awaitable[dict[uuid.UUID, tuple[float, int]]]]


async def no_reviews(ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[float, int]]:
    return {}
