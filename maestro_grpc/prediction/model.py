"""The Prediction context's plain records: what its wire, domain and store speak.

Meta-model versions and their scores, predictions and their explanations,
team recommendations, experiments with their assignments and analyses,
and the options of a training. Dataclasses and enums only: nothing here
imports numpy, scikit-learn, SQLAlchemy or protobuf.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# How a long operation reports progress: (stage, fraction 0..1, message).
Report = Callable[[str, float, str], None]

DEFAULT_OBSERVATION_DAYS = 240
MAX_OBSERVATION_DAYS = 3650


# ---- meta-model versions ----------------------------------------------------------------


class ModelKind(enum.Enum):
    LOGISTIC_REGRESSION = "logistic_regression"
    GRADIENT_BOOSTING = "gradient_boosting"


@dataclass(frozen=True)
class TrainingOptions:
    observation_days: int
    folds: int
    repeats: int
    seed: int


@dataclass(frozen=True)
class TrackingTarget:
    """Where MLflow logs a run: tracking URI, artifact root (None: the server's), names."""

    tracking_uri: str
    artifact_location: str | None
    experiment_name: str = "maestro-meta-model"
    registered_model_name: str = "maestro-meta-model"


@dataclass
class Scores:
    """Cross-validated scores (means over every fold of every repeat)."""

    roc_auc: float
    roc_auc_std: float
    brier: float
    accuracy: float
    baseline_accuracy: float
    baseline_brier: float
    folds: int
    repeats: int

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


@dataclass
class FeatureStats:
    name: str
    importance: float
    training_mean: float
    training_min: float
    training_max: float
    missing_fraction: float
    imputed_value: float

    def as_dict(self) -> dict[str, float | str]:
        return dict(self.__dict__)


@dataclass
class TrainingOutcome:
    """A fitted model, serialised, with what GetMetaModel shows of it."""

    kind: ModelKind
    model_bytes: bytes
    features: list[FeatureStats]
    cv_scores: Scores
    candidates: list[tuple[ModelKind, Scores]]
    training_set_size: int
    positive_count: int
    observation_days: int
    mlflow_run_id: str = ""
    mlflow_model_uri: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RealisedScores:
    projects: int = 0
    roc_auc: float = 0.0
    brier: float = 0.0
    accuracy: float = 0.0


@dataclass(frozen=True)
class MetaModelRecord:
    version: int
    kind: ModelKind
    observation_days: int
    training_set_size: int
    positive_count: int
    details: dict[str, Any]
    mlflow_run_id: str
    mlflow_model_uri: str
    create_time: datetime
    realised: RealisedScores = field(default_factory=RealisedScores)

    @property
    def features(self) -> list[dict[str, Any]]:
        return list(self.details["features"])


@dataclass(frozen=True)
class FeatureRange:
    name: str
    low: float
    high: float
    missing_fraction: float


@dataclass(frozen=True)
class StoredModel:
    """A stored version as the store holds it: the serialised estimator and its inputs."""

    version: int
    kind: ModelKind
    observation_days: int
    input_names: list[str]
    ranges: list[FeatureRange]
    model_bytes: bytes


# ---- predictions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Contribution:
    feature: str
    value: float
    missing: bool
    contribution: float


@dataclass(frozen=True)
class Explanation:
    probability: float
    base_log_odds: float
    contributions: list[Contribution]
    extrapolation_reasons: list[str]


@dataclass(frozen=True)
class PredictionRecord:
    id: uuid.UUID
    project_id: uuid.UUID
    model_version: int
    probability: float
    base_log_odds: float
    contributions: list[Contribution]
    extrapolation_reasons: list[str]
    observation_end_time: datetime
    create_time: datetime

    @property
    def extrapolation(self) -> bool:
        return bool(self.extrapolation_reasons)


@dataclass(frozen=True)
class PastPrediction:
    """A stored prediction of a version, as realised scores need it."""

    model_version: int
    project_id: uuid.UUID
    probability: float
    create_time: datetime


# ---- team recommendation ----------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    person_id: str
    display_name: str
    role: str
    years_experience: float
    skills: frozenset[str]
    availability: float


@dataclass(frozen=True)
class Limits:
    min_size: int
    max_size: int
    max_total_allocation: float | None


@dataclass(frozen=True)
class Proposal:
    members: list[Candidate]
    probability: float
    coverage: float
    score: float
    reasons: list[str]
    extrapolation: bool


@dataclass(frozen=True)
class Recommendation:
    current: Proposal
    proposals: list[Proposal]
    model_version: int


# ---- experiments ----------------------------------------------------------------------------

SUCCESS = "success"
SUCCESS_SCORE = "success_score"


class ExperimentUnit(enum.Enum):
    PROJECT = "project"
    TEAM = "team"


@dataclass(frozen=True)
class Variant:
    name: str
    weight: float


@dataclass(frozen=True)
class ExperimentFields:
    name: str
    description: str
    unit: ExperimentUnit
    variants: tuple[Variant, ...]
    outcome_metric: str
    salt: str = ""


@dataclass(frozen=True)
class Experiment:
    id: uuid.UUID
    name: str
    description: str
    unit: ExperimentUnit
    variants: tuple[Variant, ...]
    outcome_metric: str
    salt: str
    create_time: datetime


@dataclass(frozen=True)
class Assignment:
    experiment_id: uuid.UUID
    unit_id: str
    variant: str
    project_id: uuid.UUID | None
    assign_time: datetime


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float
    stddev: float  # sample standard deviation (n - 1)

    @property
    def variance(self) -> float:
        return self.stddev**2


@dataclass(frozen=True)
class Comparison:
    difference: float
    relative_difference: float
    t_statistic: float
    degrees_of_freedom: float
    p_value: float
    ci_low: float
    ci_high: float
    effect_size: float
    significant: bool
    valid: bool


@dataclass(frozen=True)
class SampleRatio:
    chi_square: float
    degrees_of_freedom: int
    p_value: float
    mismatch: bool


@dataclass(frozen=True)
class VariantResult:
    variant: str
    units: int
    summary: Summary
    expected_share: float


@dataclass(frozen=True)
class VariantComparison:
    variant: str
    control: str
    comparison: Comparison


@dataclass(frozen=True)
class Analysis:
    experiment: Experiment
    results: list[VariantResult]
    comparisons: list[VariantComparison]
    sample_ratio: SampleRatio
    confidence_level: float
    end_time: datetime
