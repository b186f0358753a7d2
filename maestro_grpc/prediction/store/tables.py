"""The prediction tables: meta-model versions, stored predictions, experiments."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Uuid,
    false,
    true,
)

from maestro_grpc.store.schema import metadata
from maestro_grpc.store.types import JSONDocument, UTCDateTime

# ---- prediction (issue #5) -----------------------------------------------------------
#
# Meta-model versions, numbered from 1. `model` is the fitted scikit-learn
# estimator serialised with skops (loaded with an explicit list of trusted
# types, never with pickle); `details` holds what GetMetaModel shows
# (features with their training statistics, candidates' scores) and what
# prediction needs beside the estimator (feature names, ranges).
meta_models = Table(
    "meta_models",
    metadata,
    Column("version", Integer(), primary_key=True, autoincrement=False),
    Column("kind", String(40), nullable=False),
    Column("observation_days", Integer(), nullable=False),
    Column("training_set_size", Integer(), nullable=False),
    Column("positive_count", Integer(), nullable=False),
    Column("details", JSONDocument, nullable=False),
    Column("model", LargeBinary(), nullable=False),
    Column("mlflow_run_id", String(100), nullable=False, server_default=""),
    Column("mlflow_model_uri", String(300), nullable=False, server_default=""),
    Column("create_time", UTCDateTime(), nullable=False),
    # False for a version without skill (issue #19) unless it was asked to
    # serve anyway: "the latest" is the newest version where this is true.
    Column("serves_by_default", Boolean(), nullable=False, server_default=true()),
)

# Every PredictSuccess answer, so that predictions can later be compared with
# outcomes (realised scores) and listed per project, newest first.
predictions = Table(
    "predictions",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("project_id", Uuid(), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column(
        "model_version",
        Integer(),
        ForeignKey("meta_models.version", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("probability", Float(), nullable=False),
    Column("base_log_odds", Float(), nullable=False),
    # [{"feature", "value", "missing", "contribution"}], largest |contribution| first.
    Column("contributions", JSONDocument, nullable=False),
    Column("extrapolation", Boolean(), nullable=False),
    Column("extrapolation_reasons", JSONDocument, nullable=False),
    Column("observation_end_time", UTCDateTime(), nullable=False),
    Column("create_time", UTCDateTime(), nullable=False),
    # Made by a version without skill, and the warnings shown with it.
    Column("no_skill", Boolean(), nullable=False, server_default=false()),
    Column("warnings", JSONDocument, nullable=False, server_default="[]"),
    Index("ix_predictions_project_id_create_time_id", "project_id", "create_time", "id"),
    Index("ix_predictions_model_version_project_id", "model_version", "project_id"),
)

# A/B tests of process changes. `variants` is [{"name", "weight"}], the
# first being the control.
experiments = Table(
    "experiments",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("description", Text(), nullable=False, server_default=""),
    Column("unit", String(20), nullable=False),
    Column("variants", JSONDocument, nullable=False),
    Column("outcome_metric", String(200), nullable=False),
    Column("salt", String(100), nullable=False),
    Column("create_time", UTCDateTime(), nullable=False),
    # Issue #12: the hypothesis, the window, the metrics and sequential testing.
    Column("hypothesis", Text(), nullable=False, server_default=""),
    # [MetricSpec.as_dict()], the primary first; [] for experiments made
    # before them (outcome_metric is then the primary metric).
    Column("metrics", JSONDocument, nullable=False, server_default="[]"),
    # NULL for experiments made before: their create_time.
    Column("start_time", UTCDateTime()),
    Column("end_time", UTCDateTime()),
    Column("sequential", Boolean(), nullable=False, server_default=false()),
    Column("tuning", Float(), nullable=False, server_default="5000"),
    Index("ix_experiments_create_time_id", "create_time", "id"),
)

# The first (and so every) assignment of a unit: the variant is computed by
# hashing, stored on first use and never changed.
experiment_assignments = Table(
    "experiment_assignments",
    metadata,
    Column(
        "experiment_id",
        Uuid(),
        ForeignKey("experiments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("unit_id", String(200), primary_key=True),
    Column("variant", String(63), nullable=False),
    # The project whose outcome is the unit's (the unit itself for PROJECT
    # experiments; as given for TEAM ones). No foreign key: a team's project
    # may be deleted while the assignment stays.
    Column("project_id", Uuid()),
    Column("assign_time", UTCDateTime(), nullable=False),
    Index("ix_experiment_assignments_experiment_id_variant", "experiment_id", "variant"),
)

# The projects counted for each unit: a project counts once per experiment,
# for the first unit linked to it (the primary key keeps the first). PROJECT
# units are linked to themselves; TEAM units to each project AssignVariant
# named with them.
experiment_unit_projects = Table(
    "experiment_unit_projects",
    metadata,
    Column(
        "experiment_id",
        Uuid(),
        ForeignKey("experiments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("project_id", Uuid(), primary_key=True),
    Column("unit_id", String(200), nullable=False),
    Column("link_time", UTCDateTime(), nullable=False),
)
