"""The registry's domain records: projects, team members, artifacts, usages."""

from __future__ import annotations

import enum
import uuid
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
