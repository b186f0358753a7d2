"""What the meta-model's features are computed from: a project's window and observations.

A project is observed over a window measured from its start (its start_time,
or its create_time when that is not set): [start, start + observation_days).
Nothing at or after the window's end is read, and while the window is still
open (a running project) nothing after the prediction time either.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from maestro_grpc.metrics.model import EventRecord
from maestro_grpc.registry.outward import ProjectOutline

DAY_SECONDS = 86_400.0

# Feature name -> value; None means *missing* (unknown, as opposed to a real zero).
Features = dict[str, float | None]


@dataclass(frozen=True)
class Window:
    """[start, end) of a project's observation, cut at `observed_end` while still open."""

    start: datetime
    end: datetime
    observed_end: datetime

    @property
    def complete(self) -> bool:
        return self.observed_end >= self.end

    @property
    def middle(self) -> datetime:
        return self.start + (self.end - self.start) / 2

    @property
    def observed_days(self) -> float:
        return max((self.observed_end - self.start).total_seconds(), 0.0) / DAY_SECONDS


def window_for(start: datetime, observation_days: int, as_of: datetime) -> Window:
    """The window of a project that started at `start`, as seen at `as_of`."""
    end = start + timedelta(days=observation_days)
    return Window(start=start, end=end, observed_end=max(min(end, as_of), start))


@dataclass(frozen=True)
class Member:
    """What the team features need of one member."""

    role: str
    years_experience: float
    skills: frozenset[str]
    allocation: float
    join_time: datetime | None = None
    leave_time: datetime | None = None


@dataclass(frozen=True)
class ProjectRecord:
    """The project's own fields that training and prediction need."""

    id: uuid.UUID
    name: str
    status: str
    start: datetime
    end_time: datetime | None
    succeeded: bool | None
    success_record_time: datetime | None
    required_skills: frozenset[str]
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def finished_time(self) -> datetime | None:
        """When the project ended: its end_time, else when its outcome was recorded."""
        return self.end_time or self.success_record_time


@dataclass
class Observations:
    """Everything read for one project over its window."""

    members: list[Member] = field(default_factory=list)
    # Artifacts used in the window -> their impact score at the window's end.
    used_impacts: dict[uuid.UUID, float] = field(default_factory=dict)
    reused: int = 0
    created: int = 0
    points: list[tuple[str, datetime, float]] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)


def required_skills(labels: Mapping[str, Any] | None) -> frozenset[str]:
    raw = str((labels or {}).get("required_skills", ""))
    return frozenset(s.strip().lower() for s in raw.split(",") if s.strip())


def project_record(project: ProjectOutline) -> ProjectRecord:
    """What training and prediction need of a registry project."""
    return ProjectRecord(
        id=project.id,
        name=project.name,
        status=project.status.value,
        start=project.start_time or project.create_time,
        end_time=project.end_time,
        succeeded=project.succeeded,
        success_record_time=project.success_record_time,
        required_skills=required_skills(project.labels),
        labels=tuple(sorted((str(k), str(v)) for k, v in (project.labels or {}).items())),
    )
