"""PredictionService requests -> plain records, every violation collected at once."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence

from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro.registry.v1 import project_pb2
from maestro_grpc.errors import Violations
from maestro_grpc.prediction.model import (
    DEFAULT_OBSERVATION_DAYS,
    MAX_OBSERVATION_DAYS,
    Candidate,
    DirectoryPool,
    Limits,
    TrainingOptions,
    TrainingSelector,
)
from maestro_grpc.wire import checks
from maestro_grpc.wire.protoconv import opt_time, uuid_field

MAX_CANDIDATES = 200
MAX_TEAM = 50
MAX_RESULTS = 10
MAX_SELECTOR_LABELS = 20
MAX_SELECTOR_IDS = 10_000
# Stands in for limits that are missing (never used: the request is refused).
NO_LIMITS = Limits(min_size=1, max_size=1, max_total_allocation=None)


def int_in(v: Violations, value: int, field: str, default: int, low: int, high: int) -> int:
    """An integer field in [low, high], 0 meaning `default`."""
    if value == 0:
        return default
    if not low <= value <= high:
        v.add(field, f"must be between {low} and {high} (0 for {default})")
    return value


def version(v: Violations, value: int, field: str) -> int:
    """A meta-model version, 0 meaning the latest."""
    if value < 0:
        v.add(field, "must not be negative (0 for the latest)")
    return value


def selector(v: Violations, request: pb.TrainMetaModelRequest) -> TrainingSelector:
    """TrainMetaModel's training-set selector; unset: every project."""
    if not request.HasField("training_set"):
        return TrainingSelector()
    given = request.training_set
    labels: list[tuple[str, str]] = []
    if checks.bounded(v, given.labels, "training_set.labels", MAX_SELECTOR_LABELS):
        for key, value in sorted(given.labels.items()):
            at = f"training_set.labels[{key[:63]!r}]"
            if not 1 <= len(key) <= 63 or checks.has_nul(key):
                v.add(at, "key must be 1-63 characters, without NUL")
            elif len(value) > 256 or checks.has_nul(value):
                v.add(at, "value must be at most 256 characters, without NUL")
            else:
                labels.append((key, value))
    ids: list[uuid.UUID] = []
    if checks.bounded(v, given.project_ids, "training_set.project_ids", MAX_SELECTOR_IDS):
        for i, raw in enumerate(given.project_ids):
            ids.append(uuid_field(v, raw, f"training_set.project_ids[{i}]"))
    after = v.take(lambda: opt_time(given, "started_after", "training_set.started_after"), None)
    before = v.take(lambda: opt_time(given, "started_before", "training_set.started_before"), None)
    if after is not None and before is not None and before <= after:
        v.add("training_set.started_before", "must be after training_set.started_after")
    return TrainingSelector(
        labels=tuple(labels),
        project_ids=tuple(dict.fromkeys(ids)),
        started_after=after,
        started_before=before,
    )


def training_options(v: Violations, request: pb.TrainMetaModelRequest) -> TrainingOptions:
    return TrainingOptions(
        observation_days=int_in(
            v,
            request.observation_days,
            "observation_days",
            DEFAULT_OBSERVATION_DAYS,
            1,
            MAX_OBSERVATION_DAYS,
        ),
        folds=int_in(v, request.cv_folds, "cv_folds", 5, 2, 20),
        repeats=int_in(v, request.cv_repeats, "cv_repeats", 5, 1, 50),
        seed=request.random_seed,
        selector=selector(v, request),
        serve_without_skill=request.serve_without_skill,
    )


# ---- RecommendTeam ------------------------------------------------------------------------


def candidates(v: Violations, items: Sequence[pb.Candidate]) -> list[Candidate]:
    """The pool: 1-200 people, each listed once."""
    if not items:
        v.add("candidates", "is required (1-200 people), or else directory_pool")
    elif len(items) > MAX_CANDIDATES:
        v.add("candidates", f"has more than {MAX_CANDIDATES} people")
    out: list[Candidate] = []
    seen: set[str] = set()
    for i, c in enumerate(items):
        at = f"candidates[{i}]"
        person = checks.text(v, c.person_id, f"{at}.person_id", max_len=200, required=True)
        if person and person in seen:
            v.add(f"{at}.person_id", f"{person!r} is listed twice")
        seen.add(person)
        name = checks.text(v, c.display_name, f"{at}.display_name", max_len=200)
        role = _role(v, c.role, f"{at}.role")
        years = checks.number(v, c.years_experience, f"{at}.years_experience", low=0, high=70)
        skills = checks.skills(v, c.skills, f"{at}.skills")
        availability = c.availability or 1.0
        checks.number(v, availability, f"{at}.availability", low=0.0, high=1.0, low_open=True)
        out.append(
            Candidate(
                person_id=person,
                display_name=name,
                role=role,
                years_experience=years,
                skills=frozenset(skills),
                availability=availability,
            )
        )
    return out


def pool(v: Violations, request: pb.RecommendTeamRequest) -> list[Candidate] | DirectoryPool:
    """The caller's candidates, or the directory pool asked for instead (never both)."""
    if not request.HasField("directory_pool"):
        return candidates(v, request.candidates)
    if request.candidates:
        v.add("directory_pool", "must not be set together with candidates (one pool or the other)")
    given = request.directory_pool
    skills = checks.skills(v, given.skills, "directory_pool.skills")
    most = int_in(
        v, given.max_candidates, "directory_pool.max_candidates", MAX_CANDIDATES, 1, MAX_CANDIDATES
    )
    return DirectoryPool(skills=skills, max_candidates=most)


def _role(v: Violations, value: int, field: str) -> str:
    """A TeamRole as the registry's role value ("ml_engineer")."""
    try:
        name = project_pb2.TeamRole.Name(value)
    except ValueError:
        v.add(field, f"{value} is not a known value")
        return ""
    if value == 0:
        v.add(field, "is required (UNSPECIFIED given)")
        return ""
    return name.removeprefix("TEAM_ROLE_").lower()


def limits(v: Violations, request: pb.RecommendTeamRequest) -> Limits:
    """The team's size limits and allocation budget (0: no budget)."""
    if not request.HasField("limits"):
        v.add("limits", "is required")
        return NO_LIMITS
    given = request.limits
    max_size = given.max_size
    if not 1 <= max_size <= MAX_TEAM:
        v.add("limits.max_size", f"is required: between 1 and {MAX_TEAM}")
    min_size = given.min_size or 1
    if min_size < 1:
        v.add("limits.min_size", "must not be negative (0 for 1)")
    elif 1 <= max_size <= MAX_TEAM and min_size > max_size:
        v.add("limits.min_size", "must not exceed limits.max_size")
    budget = given.max_total_allocation
    if not math.isfinite(budget) or budget < 0:
        v.add("limits.max_total_allocation", "must be a finite number, at least 0 (0: none)")
    return Limits(min_size=min_size, max_size=max_size, max_total_allocation=budget or None)
