"""The registry's records: projects, teams, artifacts, usages and content.

Plain dataclasses and enums that the wire, the domain and the store all
speak. The impact score's formula is in `registry/impact.py`. Nothing here
does I/O.
"""

# long module: one vocabulary for the registry's three layers and its readers, kept together.
from __future__ import annotations

import enum
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
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
class UsageImpact:
    """One usage's part in its artifact's score: the factors, the term, the points."""

    outcome_weight: float
    project_factor: float
    decay: float
    contribution: float
    points: float = 0.0


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
    impact: UsageImpact | None = None


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
    query's types, `tags` its `tags_any`; `total` applies them all, counted
    no further than the search count limit (`total_is_lower_bound` then).
    """

    types: list[tuple[ArtifactType, int]]
    tags: list[tuple[str, int]]
    total: int
    total_is_lower_bound: bool = False


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
    CO_USED = "co_used"
    REVIEWED = "well_reviewed"


@dataclass(frozen=True)
class UsageTally:
    """How many projects used an artifact, and how many of them found it harmful."""

    projects: int = 0
    harmed: int = 0

    @property
    def harm_share(self) -> float:
        return self.harmed / self.projects if self.projects else 0.0


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
