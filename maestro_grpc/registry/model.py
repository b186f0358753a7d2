"""The registry's records: projects, teams, artifacts, usages, content, and the impact score.

Plain dataclasses and enums that the wire, the domain and the store all
speak, and the one pure formula they share (the impact score, documented on
`maestro.registry.v1.Artifact`). Nothing here does I/O.
"""

# long module: one vocabulary for the registry's three layers and its readers, kept together.
from __future__ import annotations

import enum
import math
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


class ProjectStatus(enum.Enum):
    PLANNED = "planned"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TeamRole(enum.Enum):
    DATA_SCIENTIST = "data_scientist"
    ML_ENGINEER = "ml_engineer"
    DATA_ENGINEER = "data_engineer"
    SOFTWARE_ENGINEER = "software_engineer"
    MLOPS_ENGINEER = "mlops_engineer"
    RESEARCHER = "researcher"
    PRODUCT_MANAGER = "product_manager"
    DOMAIN_EXPERT = "domain_expert"
    ENGINEERING_MANAGER = "engineering_manager"
    ANALYST = "analyst"
    OTHER = "other"


class ArtifactType(enum.Enum):
    MODEL = "model"
    DATASET = "dataset"
    FEATURE_PIPELINE = "feature_pipeline"
    NOTEBOOK = "notebook"
    CODE = "code"
    CONFIG = "config"
    PROMPT = "prompt"
    REPORT = "report"
    OTHER = "other"


class UsageOutcome(enum.Enum):
    HELPFUL = "helpful"
    NEUTRAL = "neutral"
    HARMFUL = "harmful"
    UNKNOWN = "unknown"


class ArtifactOrder(enum.Enum):
    IMPACT = "impact"
    RECENCY = "recency"
    USAGE = "usage"


@dataclass(frozen=True)
class Success:
    """A project's recorded outcome."""

    succeeded: bool
    score: float | None = None
    time_to_production: timedelta | None = None
    metric_name: str | None = None
    metric_value: float | None = None
    business_impact: str = ""
    notes: str = ""
    record_time: datetime | None = None


@dataclass(frozen=True)
class TeamMember:
    id: uuid.UUID
    project_id: uuid.UUID
    person_id: str
    display_name: str
    role: TeamRole
    years_experience: float
    skills: tuple[str, ...]
    allocation: float
    join_time: datetime
    leave_time: datetime | None
    # The person of the directory this membership is (None: not linked).
    directory_person_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Project:
    id: uuid.UUID
    name: str
    description: str
    status: ProjectStatus
    labels: dict[str, str]
    repo_url: str
    mlflow_experiment_id: str
    start_time: datetime | None
    end_time: datetime | None
    create_time: datetime
    update_time: datetime
    revision: int
    success: Success | None
    team: tuple[TeamMember, ...] = ()

    @property
    def etag(self) -> str:
        return f"r{self.revision}"

    @property
    def required_skills(self) -> set[str]:
        raw = self.labels.get("required_skills", "")
        return {s.strip().lower() for s in raw.split(",") if s.strip()}


@dataclass(frozen=True)
class Artifact:
    id: uuid.UUID
    name: str
    version: str
    type: ArtifactType
    description: str
    tags: tuple[str, ...]
    origin_project_id: uuid.UUID | None
    creator: str
    metadata: dict[str, Any]
    content_sha256: str
    size_bytes: int
    storage_uri: str
    usage_count: int
    impact_score: float
    create_time: datetime
    update_time: datetime
    delete_time: datetime | None = None
    # The server stored this content (an upload linked it): downloads need it.
    content_stored: bool = False
    # This version's reviews (from the people directory, filled on Get and Search).
    review_average: float = 0.0
    review_count: int = 0


@dataclass(frozen=True)
class ArtifactUsage:
    id: uuid.UUID
    artifact_id: uuid.UUID
    project_id: uuid.UUID
    user: str
    purpose: str
    outcome: UsageOutcome
    use_time: datetime
    create_time: datetime


# ---- what callers give -------------------------------------------------------


@dataclass
class ProjectFields:
    """The writable fields of a project (create, or the masked ones of an update)."""

    name: str = ""
    description: str = ""
    status: ProjectStatus = ProjectStatus.PLANNED
    labels: dict[str, str] = field(default_factory=dict)
    repo_url: str = ""
    mlflow_experiment_id: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None


@dataclass
class TeamMemberFields:
    person_id: str = ""
    display_name: str = ""
    role: TeamRole = TeamRole.OTHER
    years_experience: float = 0.0
    skills: tuple[str, ...] = ()
    allocation: float = 1.0
    join_time: datetime | None = None
    leave_time: datetime | None = None
    # Set by the domain once `person_id` resolved to a person of the directory.
    directory_person_id: uuid.UUID | None = None


@dataclass(frozen=True)
class PersonRef:
    """What the registry needs of a person of the directory to link a membership."""

    id: uuid.UUID
    display_name: str
    active: bool


# The directory's answer to "who is this `person_id`?" (wired in app.py).
PersonResolver = Callable[[str], Awaitable[PersonRef | None]]


async def no_directory(person_id: str) -> PersonRef | None:
    """The resolver of a registry built without a directory: nobody is linked."""
    return None


@dataclass
class ArtifactFields:
    name: str = ""
    version: str = ""
    type: ArtifactType = ArtifactType.OTHER
    description: str = ""
    tags: tuple[str, ...] = ()
    origin_project_id: uuid.UUID | None = None
    creator: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    content_sha256: str = ""
    size_bytes: int = 0
    storage_uri: str = ""


@dataclass
class UsageFields:
    artifact_id: uuid.UUID
    project_id: uuid.UUID
    user: str = ""
    purpose: str = ""
    outcome: UsageOutcome = UsageOutcome.UNKNOWN
    use_time: datetime | None = None


@dataclass
class ArtifactQuery:
    """SearchArtifacts' filter; every part given must hold."""

    text: str = ""
    types: list[ArtifactType] = field(default_factory=list)
    tags_any: list[str] = field(default_factory=list)
    tags_all: list[str] = field(default_factory=list)
    origin_project_id: uuid.UUID | None = None
    min_impact_score: float = 0.0
    name: str = ""
    order: ArtifactOrder = ArtifactOrder.IMPACT


@dataclass
class ArtifactFacets:
    """How many artifacts a search finds, by type and by tag (CountArtifactFacets).

    Each facet is counted with every filter but its own: `types` ignores the
    query's types, `tags` its `tags_any`; `total` applies them all.
    """

    types: list[tuple[ArtifactType, int]]
    tags: list[tuple[str, int]]
    total: int


# ---- artifact content ------------------------------------------------------------------


class BlobState(enum.Enum):
    """Where a content blob's row is in its life (see domain/content/__init__.py)."""

    PENDING = "pending"
    PRESENT = "present"
    DELETING = "deleting"


class VerifyStatus(enum.Enum):
    """What re-hashing a stored blob found."""

    OK = "ok"
    MISMATCH = "mismatch"
    MISSING = "missing"


@dataclass(frozen=True)
class ContentBlob:
    """A content-addressed blob as the store knows it."""

    sha256: str
    size_bytes: int
    state: BlobState


@dataclass(frozen=True)
class Finish:
    """The end of an upload's stream, with the hash the client computed while sending."""

    sha256: str = ""


@dataclass(frozen=True)
class UploadSpec:
    """An upload's header: which artifact, and what the client declares."""

    artifact_id: uuid.UUID
    sha256: str = ""
    size_bytes: int | None = None
    by_url: bool = False


@dataclass(frozen=True)
class UploadResult:
    artifact: Artifact
    deduplicated: bool


@dataclass
class Download:
    """An artifact's content from an offset: its hash and size, and the bytes to come."""

    sha256: str
    size_bytes: int
    chunks: AsyncGenerator[bytes, None]


class UrlMethod(enum.Enum):
    GET = "GET"
    PUT = "PUT"


@dataclass(frozen=True)
class ContentUrl:
    url: str
    method: str
    expire_time: datetime
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class GcReport:
    """What one GC pass did."""

    marked: int = 0
    cleared: int = 0
    deleted: int = 0
    deleted_bytes: int = 0
    swept: int = 0
    failed: int = 0


@dataclass
class VerifyReport:
    """What one verification pass found, and how many blobs are known bad in all."""

    ok: int = 0
    mismatch: int = 0
    missing: int = 0
    bad_total: int = 0

    def count(self, status: VerifyStatus) -> None:
        setattr(self, status.value, getattr(self, status.value) + 1)


# ---- recommendations -------------------------------------------------------------------


class Reason(enum.Enum):
    """Why an artifact is recommended."""

    SIMILAR = "used_by_similar_projects"
    TAGS = "matching_tags"
    IMPACT = "high_impact"


@dataclass
class Recommendation:
    artifact: Artifact
    score: float
    # (kind, detail, share of the score), strongest first.
    reasons: list[tuple[Reason, str, float]] = field(default_factory=list)


@dataclass
class PeerProfile:
    """What recommendations weigh of one project: its labels, its current team's skills,
    the artifacts it used (with their tags and outcomes), and its recorded outcome."""

    labels: dict[str, str] = field(default_factory=dict)
    skills: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)
    used: set[uuid.UUID] = field(default_factory=set)
    usages: list[tuple[uuid.UUID, UsageOutcome]] = field(default_factory=list)
    succeeded: bool | None = None
    score: float | None = None


# ---- the impact score ------------------------------------------------------------------
#
# One formula, used by LogArtifactUsage, by the indexer and by Prediction's
# features (through registry/read.py), so all of them always agree.

OUTCOME_WEIGHT = {
    UsageOutcome.HELPFUL: 1.0,
    UsageOutcome.NEUTRAL: 0.25,
    UsageOutcome.UNKNOWN: 0.1,
    UsageOutcome.HARMFUL: -1.0,
}
SQUASH_SCALE = 5.0


@dataclass(frozen=True)
class UsageSignal:
    """What the score needs of one usage: its outcome, time, and the using project's success."""

    outcome: UsageOutcome
    use_time: datetime
    project_succeeded: bool | None = None
    project_score: float | None = None


def project_factor(succeeded: bool | None, score: float | None) -> float:
    """How much a usage counts, by the success of the project that used the artifact."""
    if score is not None:
        return 0.5 + score
    if succeeded is None:
        return 1.0
    return 1.5 if succeeded else 0.5


def impact_score(usages: Iterable[UsageSignal], now: datetime, half_life_days: float) -> float:
    """Sum each usage's weight x project factor x age decay, squashed to 0..100."""
    total = 0.0
    for usage in usages:
        age_days = max((now - usage.use_time).total_seconds(), 0.0) / 86_400
        decay = 0.5 ** (age_days / half_life_days)
        total += (
            OUTCOME_WEIGHT[usage.outcome]
            * project_factor(usage.project_succeeded, usage.project_score)
            * decay
        )
    return 100.0 * (1.0 - math.exp(-max(total, 0.0) / SQUASH_SCALE))


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
    """A committed registry write worth telling followers about."""

    kind: str  # artifact_version, project_status, project_outcome, team_change, usage
    project_id: uuid.UUID | None
    summary: str
    # What makes a repeat (a retried create) the same change; "" for none.
    key: str = ""
    artifact: Artifact | None = None
    member: TeamMember | None = None


# Told after each such write commits (app.py wires the people context's feed).
ChangeSink = Callable[[RegistryChange], Awaitable[None]]


# Each artifact's (mean rating, review count), for those of the ids that have reviews.
ReviewSummaries = Callable[[Sequence[uuid.UUID]], Awaitable[dict[uuid.UUID, tuple[float, int]]]]


async def no_reviews(ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[float, int]]:
    return {}
