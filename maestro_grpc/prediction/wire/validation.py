"""PredictionService requests -> plain records, every violation collected at once."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from maestro.prediction.v1 import experiment_pb2 as ep
from maestro.prediction.v1 import prediction_service_pb2 as pb
from maestro.registry.v1 import project_pb2
from maestro_grpc.errors import Violations
from maestro_grpc.prediction.model import (
    DEFAULT_OBSERVATION_DAYS,
    MAX_OBSERVATION_DAYS,
    SUCCESS,
    SUCCESS_SCORE,
    Candidate,
    ExperimentFields,
    ExperimentUnit,
    Limits,
    TrainingOptions,
    Variant,
)
from maestro_grpc.wire import checks

VARIANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
METRIC_NAME = re.compile(r"^[a-z0-9_.:-]{1,200}$")
MAX_CANDIDATES = 200
MAX_TEAM = 50
MAX_RESULTS = 10
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
    )


# ---- RecommendTeam ------------------------------------------------------------------------


def candidates(v: Violations, items: Sequence[pb.Candidate]) -> list[Candidate]:
    """The pool: 1-200 people, each listed once."""
    if not items:
        v.add("candidates", "is required (1-200 people)")
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


# ---- experiments --------------------------------------------------------------------------


def experiment_fields(v: Violations, request: pb.CreateExperimentRequest) -> ExperimentFields:
    if not request.HasField("experiment"):
        v.add("experiment", "is required")
    e = request.experiment
    return ExperimentFields(
        name=checks.text(v, e.name, "experiment.name", max_len=200, required=True),
        description=checks.text(v, e.description, "experiment.description", max_len=10_000),
        unit=_unit(v, e.unit),
        variants=_variants(v, e.variants),
        outcome_metric=_outcome_metric(v, e.outcome_metric),
        salt=checks.text(v, e.salt, "experiment.salt", max_len=100),
    )


def _unit(v: Violations, value: int) -> ExperimentUnit:
    if value == ep.EXPERIMENT_UNIT_TEAM:
        return ExperimentUnit.TEAM
    if value not in (ep.EXPERIMENT_UNIT_UNSPECIFIED, ep.EXPERIMENT_UNIT_PROJECT):
        v.add("experiment.unit", f"{value} is not a known value")
    return ExperimentUnit.PROJECT


def _variants(v: Violations, items: Sequence[ep.Variant]) -> tuple[Variant, ...]:
    """2 to 10 variants with distinct names and positive weights, the control first."""
    if not 2 <= len(items) <= 10:
        v.add("experiment.variants", "must hold 2 to 10 variants (the first is the control)")
    out: list[Variant] = []
    names: set[str] = set()
    for i, variant in enumerate(items):
        at = f"experiment.variants[{i}]"
        if not VARIANT_NAME.match(variant.name):
            v.add(
                f"{at}.name",
                "must be 1-63 characters of [a-z0-9_-], starting with a letter or digit",
            )
        elif variant.name in names:
            v.add(f"{at}.name", f"{variant.name!r} is used twice")
        names.add(variant.name)
        if not math.isfinite(variant.weight) or variant.weight <= 0:
            v.add(f"{at}.weight", "must be a positive finite number")
        out.append(Variant(variant.name, variant.weight))
    return tuple(out)


def _outcome_metric(v: Violations, value: str) -> str:
    metric = value.strip()
    if not metric:
        v.add(
            "experiment.outcome_metric",
            f'is required: "{SUCCESS}", "{SUCCESS_SCORE}" or a metric name',
        )
    elif not METRIC_NAME.match(metric):
        v.add("experiment.outcome_metric", "must be 1-200 characters of [a-z0-9_.:-]")
    return metric


def confidence_level(v: Violations, value: float) -> float:
    """The analysis' confidence level, 0 meaning 0.95."""
    level = value or 0.95
    if not math.isfinite(level) or not 0.5 <= level <= 0.999:
        v.add("confidence_level", "must be between 0.5 and 0.999 (0 for 0.95)")
    return level
