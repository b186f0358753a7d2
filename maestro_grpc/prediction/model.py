"""The Prediction context's plain records: what its wire, domain and store speak.

Meta-model versions and their scores, predictions and their explanations,
team recommendations, experiments with their assignments and analyses,
and the options of a training. Dataclasses and enums only: nothing here
imports numpy, scikit-learn, SQLAlchemy or protobuf.
"""

# long module: the one vocabulary the context's three layers speak; the training's scores
# and accounting (issue #19) belong beside the versions they describe.
from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable, Callable, Sequence
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
class TrainingSelector:
    """Which projects a training considers: every condition given must hold."""

    labels: tuple[tuple[str, str], ...] = ()
    project_ids: tuple[uuid.UUID, ...] = ()
    started_after: datetime | None = None
    started_before: datetime | None = None


class LeftOutReason(enum.Enum):
    """Why a considered project was not trained on (in the wire enum's order)."""

    NO_OUTCOME = "no_outcome"
    STILL_ACTIVE = "still_active"
    WINDOW_OPEN = "window_open"
    ENDED_BEFORE_WINDOW_CLOSED = "ended_before_window_closed"


@dataclass
class TrainingSetReport:
    """The projects considered, used, and left out by reason (ids in name order)."""

    considered: int = 0
    used: int = 0
    left_out: dict[LeftOutReason, list[str]] = field(default_factory=dict)

    @property
    def left_out_count(self) -> int:
        return sum(len(ids) for ids in self.left_out.values())

    def count(self, reason: LeftOutReason) -> int:
        return len(self.left_out.get(reason, []))

    def as_dict(self, max_ids: int = 100) -> dict[str, Any]:
        return {
            "considered": self.considered,
            "used": self.used,
            "left_out": {
                r.value: {"count": len(ids), "project_ids": ids[:max_ids]}
                for r, ids in self.left_out.items()
            },
        }


@dataclass(frozen=True)
class TrainingOptions:
    observation_days: int
    folds: int
    repeats: int
    seed: int
    selector: TrainingSelector = TrainingSelector()
    serve_without_skill: bool = False


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
class CandidateResult:
    """One candidate of a training: its own outer-fold scores and how often inner CV chose it."""

    name: str
    kind: ModelKind
    scores: Scores
    inner_roc_auc: float
    times_selected: int
    feature_count: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "cv_scores": self.scores.as_dict(),
            "inner_roc_auc": self.inner_roc_auc,
            "times_selected": self.times_selected,
            "feature_count": self.feature_count,
        }


@dataclass
class TemporalScores:
    """Trained on the projects that started before a cut, scored on those after it."""

    roc_auc: float
    brier: float
    baseline_brier: float
    train_count: int
    test_count: int
    cut_time: float  # seconds since the epoch: the first held-out project's start
    candidate: str
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class CurvePoint:
    """The kept candidate fitted on a fraction of each outer training fold."""

    fraction: float
    training_projects: float
    roc_auc: float
    brier: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Validation:
    """What the honest scores add: an interval, time order, a learning curve, a verdict."""

    roc_auc_low: float
    roc_auc_high: float
    baseline_lr: Scores
    temporal: TemporalScores | None
    learning_curve: list[CurvePoint]
    no_skill: bool
    verdict: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "roc_auc_low": self.roc_auc_low,
            "roc_auc_high": self.roc_auc_high,
            "baseline_lr": self.baseline_lr.as_dict(),
            "temporal": None if self.temporal is None else self.temporal.as_dict(),
            "learning_curve": [p.as_dict() for p in self.learning_curve],
            "no_skill": self.no_skill,
            "verdict": self.verdict,
        }


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
    candidates: list[CandidateResult]
    training_set_size: int
    positive_count: int
    observation_days: int
    input_names: list[str] = field(default_factory=list)
    candidate: str = ""
    validation: Validation | None = None
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
    serves_by_default: bool = True

    @property
    def features(self) -> list[dict[str, Any]]:
        return list(self.details["features"])

    @property
    def no_skill(self) -> bool:
        """The version has no skill (see `domain/validate.py`); False for older versions."""
        return bool((self.details.get("validation") or {}).get("no_skill", False))

    @property
    def verdict(self) -> str:
        return str((self.details.get("validation") or {}).get("verdict", ""))


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
    no_skill: bool = False
    verdict: str = ""


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
    no_skill: bool = False
    warnings: list[str] = field(default_factory=list)

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
class DirectoryPool:
    """RecommendTeam's pool drawn from the people directory: who has every skill."""

    skills: tuple[str, ...]
    max_candidates: int


@dataclass(frozen=True)
class Limits:
    min_size: int
    max_size: int
    max_total_allocation: float | None


@dataclass(frozen=True)
class Availability:
    """A candidate whose availability the store's allocations reduced (or ruled out)."""

    person_id: str
    requested: float
    allocated_elsewhere: float
    available: float
    excluded: bool
    projects: list[str]


@dataclass(frozen=True)
class Proposal:
    members: list[Candidate]
    probability: float
    coverage: float
    score: float
    reasons: list[str]
    # Team features out of the training range (the open window is reported apart).
    extrapolation_reasons: list[str] = field(default_factory=list)

    @property
    def extrapolation(self) -> bool:
        return bool(self.extrapolation_reasons)


@dataclass(frozen=True)
class Recommendation:
    current: Proposal | None  # None: the project has nobody on its team
    proposals: list[Proposal]
    model_version: int
    by_model: bool = True
    ranking_reason: str = ""
    window_open: bool = False
    availability: list[Availability] = field(default_factory=list)


# ---- experiments ----------------------------------------------------------------------------

SUCCESS = "success"
SUCCESS_SCORE = "success_score"
DEFAULT_TUNING = 5000.0


class ExperimentUnit(enum.Enum):
    PROJECT = "project"
    TEAM = "team"


class ExperimentStatus(enum.Enum):
    DRAFT = "draft"
    RUNNING = "running"
    STOPPED = "stopped"


class MetricRole(enum.Enum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    GUARDRAIL = "guardrail"


class MetricKind(enum.Enum):
    MEAN = "mean"
    PROPORTION = "proportion"
    RATIO = "ratio"
    COUNT = "count"


class Aggregation(enum.Enum):
    MEAN = "mean"
    SUM = "sum"
    LAST = "last"
    COUNT = "count"


class Verdict(enum.Enum):
    NOT_ENOUGH_DATA = "not_enough_data"
    NO_DETECTABLE_EFFECT = "no_detectable_effect"
    BETTER = "better"
    WORSE = "worse"
    GUARDRAIL_BREACHED = "guardrail_breached"


class Adjustment(enum.Enum):
    NONE = "none"
    HOLM = "holm"
    BENJAMINI_HOCHBERG = "benjamini_hochberg"


@dataclass(frozen=True)
class MetricSpec:
    """One metric of an experiment, its defaults filled in (see ExperimentMetric)."""

    name: str
    role: MetricRole = MetricRole.PRIMARY
    kind: MetricKind = MetricKind.MEAN
    aggregation: Aggregation = Aggregation.MEAN
    denominator: str = ""
    lower_is_better: bool = False
    pre_period_days: int = 0
    minimum_effect: float = 0.0
    prior_mean: float = 0.0
    prior_stddev: float = 0.0  # 0: a flat prior

    @property
    def is_success(self) -> bool:
        return self.name in {SUCCESS, SUCCESS_SCORE}

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role.value,
            "kind": self.kind.value,
            "aggregation": self.aggregation.value,
            "denominator": self.denominator,
            "lower_is_better": self.lower_is_better,
            "pre_period_days": self.pre_period_days,
            "minimum_effect": self.minimum_effect,
            "prior_mean": self.prior_mean,
            "prior_stddev": self.prior_stddev,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MetricSpec:
        return cls(
            name=d["name"],
            role=MetricRole(d["role"]),
            kind=MetricKind(d["kind"]),
            aggregation=Aggregation(d["aggregation"]),
            denominator=d.get("denominator", ""),
            lower_is_better=bool(d.get("lower_is_better", False)),
            pre_period_days=int(d.get("pre_period_days", 0)),
            minimum_effect=float(d.get("minimum_effect", 0.0)),
            prior_mean=float(d.get("prior_mean", 0.0)),
            prior_stddev=float(d.get("prior_stddev", 0.0)),
        )


def outcome_spec(outcome_metric: str) -> MetricSpec:
    """The primary metric an experiment with only an outcome_metric has."""
    if outcome_metric == SUCCESS:
        return MetricSpec(SUCCESS, kind=MetricKind.PROPORTION)
    return MetricSpec(outcome_metric)


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
    metrics: tuple[MetricSpec, ...]
    salt: str = ""
    hypothesis: str = ""
    start_time: datetime | None = None  # None: the create time
    end_time: datetime | None = None
    sequential: bool = False
    tuning: float = DEFAULT_TUNING


@dataclass(frozen=True)
class Experiment:
    id: uuid.UUID
    name: str
    description: str
    unit: ExperimentUnit
    variants: tuple[Variant, ...]
    metrics: tuple[MetricSpec, ...]
    salt: str
    create_time: datetime
    start_time: datetime
    end_time: datetime | None = None
    hypothesis: str = ""
    sequential: bool = False
    tuning: float = DEFAULT_TUNING

    @property
    def outcome_metric(self) -> str:
        return self.metrics[0].name

    def status(self, now: datetime) -> ExperimentStatus:
        if self.end_time is not None and self.end_time <= now:
            return ExperimentStatus.STOPPED
        if now < self.start_time:
            return ExperimentStatus.DRAFT
        return ExperimentStatus.RUNNING


@dataclass(frozen=True)
class Assignment:
    experiment_id: uuid.UUID
    unit_id: str
    variant: str
    project_id: uuid.UUID | None
    assign_time: datetime


@dataclass(frozen=True)
class Enrolment:
    """The units assigned before a time, as columns (by unit id), and the projects counted.

    Project j counts for unit project_units[j] (an index into unit_ids);
    each project counts for one unit only.
    """

    unit_ids: list[str]
    variants: list[str]
    assign_times: list[datetime]
    project_ids: list[uuid.UUID]
    project_units: list[int]


@dataclass(frozen=True)
class SampleRatio:
    chi_square: float
    degrees_of_freedom: int
    p_value: float
    mismatch: bool
    checked: bool = True
    min_units: int = 0


@dataclass(frozen=True)
class AnalysisOptions:
    confidence_level: float = 0.95
    end_time: datetime | None = None
    adjustment: Adjustment = Adjustment.NONE
    srm_min_units: int = 100


# Called once a prediction that moved committed, with its feed note (the outbox,
# store/outbox.py): moves the note into the feed at once; wired in app.py.
MoveRelay = Callable[[], Awaitable[None]]


# Told when an analysis reaches a verdict: the experiment, the projects it counted, one
# line for people, and a key that is the same for the same verdicts (wired in app.py).
VerdictSink = Callable[[uuid.UUID, Sequence[uuid.UUID], str, str], Awaitable[None]]


@dataclass(frozen=True)
class MoveAlert:
    """Followers hear when a prediction moves at least `threshold` since the project's last:
    a note written with the prediction, in its transaction, then relayed."""

    relay: MoveRelay
    threshold: float = 0.1
    # The directory's person the current call acts as (None: no person).
    actor: Callable[[], uuid.UUID | None] = lambda: None
