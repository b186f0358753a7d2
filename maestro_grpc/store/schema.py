"""The store's tables (SQLAlchemy Core), shared by all three services.

Alembic migrations under `migrations/versions` create exactly these; a test
compares the two. Things one store has and the other lacks (PostgreSQL's
generated tsvector column and GIN indexes, SQLite's FTS5 table and its
triggers) live only in the migrations and are named in `DIALECT_ONLY`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)

from maestro_grpc.store.types import JSONDocument, TagList, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# Objects that exist on one dialect only; the schema comparison ignores them.
DIALECT_ONLY = {
    "artifact_search",
    "artifact_search_rowids",
    "ix_artifacts_search_vector",
    "ix_artifacts_tags_gin",
    "search_vector",
}

projects = Table(
    "projects",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("description", Text(), nullable=False, server_default=""),
    Column("status", String(20), nullable=False),
    Column("labels", JSONDocument, nullable=False),
    Column("repo_url", Text(), nullable=False, server_default=""),
    Column("mlflow_experiment_id", String(200), nullable=False, server_default=""),
    Column("start_time", UTCDateTime()),
    Column("end_time", UTCDateTime()),
    Column("create_time", UTCDateTime(), nullable=False),
    Column("update_time", UTCDateTime(), nullable=False),
    Column("revision", Integer(), nullable=False, server_default="1"),
    # The recorded outcome (UpdateProjectSuccess); success_record_time is
    # NULL until one is recorded.
    Column("success_succeeded", Boolean()),
    Column("success_score", Float()),
    Column("success_time_to_production_seconds", Float()),
    Column("success_metric_name", String(200)),
    Column("success_metric_value", Float()),
    Column("success_business_impact", Text()),
    Column("success_notes", Text()),
    Column("success_record_time", UTCDateTime()),
    Index("ix_projects_create_time_id", "create_time", "id"),
    Index("ix_projects_status", "status"),
)

team_members = Table(
    "team_members",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("project_id", Uuid(), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", String(200), nullable=False),
    Column("display_name", String(200), nullable=False, server_default=""),
    Column("role", String(40), nullable=False),
    Column("years_experience", Float(), nullable=False, server_default="0"),
    Column("skills", TagList, nullable=False),
    Column("allocation", Float(), nullable=False, server_default="1"),
    Column("join_time", UTCDateTime(), nullable=False),
    Column("leave_time", UTCDateTime()),
    Column("create_time", UTCDateTime(), nullable=False),
    Column("update_time", UTCDateTime(), nullable=False),
    Index("ix_team_members_project_id_join_time_id", "project_id", "join_time", "id"),
    # A person is at most once on a project's current team.
    Index(
        "uq_team_members_current_person",
        "project_id",
        "person_id",
        unique=True,
        postgresql_where=text("leave_time IS NULL"),
        sqlite_where=text("leave_time IS NULL"),
    ),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("version", String(100), nullable=False),
    Column("type", String(40), nullable=False),
    Column("description", Text(), nullable=False, server_default=""),
    Column("tags", TagList, nullable=False),
    Column(
        "origin_project_id",
        Uuid(),
        ForeignKey("projects.id", ondelete="SET NULL"),
    ),
    Column("creator", String(200), nullable=False, server_default=""),
    Column("metadata", JSONDocument, nullable=False),
    Column("content_sha256", String(64), nullable=False, server_default=""),
    Column("size_bytes", BigInteger(), nullable=False, server_default="0"),
    Column("storage_uri", Text(), nullable=False, server_default=""),
    Column("usage_count", BigInteger(), nullable=False, server_default="0"),
    Column("impact_score", Float(), nullable=False, server_default="0"),
    # Normalised words of name, version, description and tags: what free-text
    # search matches (PostgreSQL indexes it as a tsvector, SQLite with FTS5).
    Column("search_text", Text(), nullable=False, server_default=""),
    Column("create_time", UTCDateTime(), nullable=False),
    Column("update_time", UTCDateTime(), nullable=False),
    Column("delete_time", UTCDateTime()),
    # Name and version are unique among live artifacts only, so a deleted
    # version can be registered again.
    Index(
        "uq_artifacts_live_name_version",
        "name",
        "version",
        unique=True,
        postgresql_where=text("delete_time IS NULL"),
        sqlite_where=text("delete_time IS NULL"),
    ),
    # Search pages run newest/highest first by (key DESC, id DESC): a backward
    # scan of these. The live-artifact indexes carry type and tags too
    # (INCLUDE, PostgreSQL only), so filtered pages and their counts are
    # index-only scans.
    Index(
        "ix_artifacts_live_impact",
        "impact_score",
        "id",
        postgresql_where=text("delete_time IS NULL"),
        sqlite_where=text("delete_time IS NULL"),
        postgresql_include=["type", "tags"],
    ),
    Index(
        "ix_artifacts_live_type_impact",
        "type",
        "impact_score",
        "id",
        postgresql_where=text("delete_time IS NULL"),
        sqlite_where=text("delete_time IS NULL"),
        postgresql_include=["tags"],
    ),
    Index("ix_artifacts_create_time_id", "create_time", "id"),
    Index("ix_artifacts_usage_count_id", "usage_count", "id"),
    Index("ix_artifacts_origin_project_id", "origin_project_id"),
    Index("ix_artifacts_content_sha256", "content_sha256"),
    CheckConstraint("impact_score >= 0 AND impact_score <= 100", name="impact_range"),
)

artifact_usages = Table(
    "artifact_usages",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("artifact_id", Uuid(), ForeignKey("artifacts.id", ondelete="CASCADE"), nullable=False),
    Column("project_id", Uuid(), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("used_by", String(200), nullable=False, server_default=""),
    Column("purpose", Text(), nullable=False, server_default=""),
    Column("outcome", String(20), nullable=False),
    Column("use_time", UTCDateTime(), nullable=False),
    Column("create_time", UTCDateTime(), nullable=False),
    Index("ix_artifact_usages_artifact_id_use_time_id", "artifact_id", "use_time", "id"),
    Index("ix_artifact_usages_project_id_use_time_id", "project_id", "use_time", "id"),
)

# request_id idempotency (AIP-155): the first call of a (scope, request_id)
# claims the row in its own transaction; a repeat finds it and returns the
# resource it made.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(100), primary_key=True),
    Column("request_id", String(100), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("resource_id", String(100), nullable=False, server_default=""),
    Column("create_time", UTCDateTime(), nullable=False),
    Index("ix_idempotency_keys_create_time", "create_time"),
)

# Work for the background workers (metrics rollups, the artifact indexer).
# A job is identified by (queue, key); enqueueing it again while it waits or
# runs bumps its generation, so a worker that finishes an older generation
# leaves it queued for another pass. Workers lease jobs with
# FOR UPDATE SKIP LOCKED on PostgreSQL (any number of replicas) and one at a
# time on SQLite.
worker_jobs = Table(
    "worker_jobs",
    metadata,
    Column(
        "id",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("queue", String(50), nullable=False),
    Column("key", String(300), nullable=False),
    Column("payload", JSONDocument, nullable=False),
    Column("generation", Integer(), nullable=False, server_default="1"),
    Column("run_after", UTCDateTime(), nullable=False),
    Column("lease_owner", String(200)),
    Column("lease_expire_time", UTCDateTime()),
    Column("attempts", Integer(), nullable=False, server_default="0"),
    Column("last_error", Text()),
    Column("create_time", UTCDateTime(), nullable=False),
    UniqueConstraint("queue", "key", name="uq_worker_jobs_queue_key"),
    Index("ix_worker_jobs_queue_run_after", "queue", "run_after"),
)

# ---- metrics (issue #3) -------------------------------------------------------------
#
# A metric series is one (project, name, label set); its points live in
# metric_points, which holds only (series, time, value, source) so that a
# point is a narrow row. On PostgreSQL metric_points is partitioned by range
# of time: a DEFAULT partition (created by the migration) catches everything,
# and monthly partitions `metric_points_pYYYY_MM` are created on demand by the
# write path (and moved out of DEFAULT by the metrics worker); those names
# are in DIALECT_ONLY_PREFIXES. There is no foreign key from metric_points to
# metric_series: the write path resolves series itself and checking a key
# per point would cost more than the row.

DIALECT_ONLY.update({"metric_points_default"})
# Object names starting with these exist on one dialect only (PostgreSQL's
# monthly partitions of metric_points).
DIALECT_ONLY_PREFIXES = ("metric_points_p",)

metric_series = Table(
    "metric_series",
    metadata,
    Column(
        "id",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("project_id", Uuid(), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    # Canonical JSON of the labels (sorted keys, no spaces); "{}" for none.
    Column("labels", Text(), nullable=False),
    Column("create_time", UTCDateTime(), nullable=False),
    UniqueConstraint(
        "project_id", "name", "labels", name="uq_metric_series_project_id_name_labels"
    ),
)

metric_points = Table(
    "metric_points",
    metadata,
    Column("series_id", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    Column("time", UTCDateTime(), nullable=False),
    Column("value", Float(), nullable=False),
    # MetricSource number (1 GIT, 2 CI, 3 MLFLOW, 4 AGENT, 5 MANUAL).
    Column("source", SmallInteger(), nullable=False, server_default="5"),
    PrimaryKeyConstraint("series_id", "time", name="pk_metric_points"),
    postgresql_partition_by="RANGE (time)",
    sqlite_with_rowid=False,
)

# Typed process events, unique by their natural key within a project. A later
# state (higher state_rank, or the same rank with a different payload)
# replaces the stored one; an earlier state is ignored.
process_events = Table(
    "process_events",
    metadata,
    Column(
        "id",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("project_id", Uuid(), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    # commit, pull_request, pipeline_run, test_report, deployment, incident,
    # experiment_run.
    Column("type", String(20), nullable=False),
    Column("natural_key", String(600), nullable=False),
    # A commit's sha, a pull request's merge commit: what deployments refer to.
    Column("ref", String(100), nullable=False, server_default=""),
    Column("status", String(20), nullable=False, server_default=""),
    Column("state_rank", SmallInteger(), nullable=False, server_default="0"),
    # The event's main time (author time, open time, start time, ...).
    Column("time", UTCDateTime(), nullable=False),
    # When it ended (merge or close, pipeline end, resolution, ...), if it did.
    Column("end_time", UTCDateTime()),
    Column("payload", JSONDocument, nullable=False),
    # sha256 (hex, first 32) of the canonical payload: same state, same digest.
    Column("digest", String(32), nullable=False),
    Column("create_time", UTCDateTime(), nullable=False),
    Column("update_time", UTCDateTime(), nullable=False),
    UniqueConstraint(
        "project_id", "type", "natural_key", name="uq_process_events_project_id_type_natural_key"
    ),
    Index("ix_process_events_project_id_time", "project_id", "time"),
    Index("ix_process_events_project_id_type_time", "project_id", "type", "time"),
    Index("ix_process_events_project_id_ref", "project_id", "ref"),
)

# Exactly-once ingest: per producer, the last sequence stored and the epoch of
# the stream that may write (a newer open bumps it and ends older streams).
metric_producers = Table(
    "metric_producers",
    metadata,
    Column("producer_id", String(200), primary_key=True),
    Column("project_id", Uuid(), ForeignKey("projects.id", ondelete="SET NULL")),
    Column("committed_sequence", BigInteger(), nullable=False, server_default="0"),
    Column("epoch", BigInteger(), nullable=False, server_default="0"),
    Column("create_time", UTCDateTime(), nullable=False),
    Column("update_time", UTCDateTime(), nullable=False),
)

# Hourly and daily aggregates of each series, kept by the metrics worker.
# m2 is the sum of squared deviations from the mean (mergeable, Chan et al.);
# sketch is a serialized relative-error quantile sketch (metrics/sketch.py).
metric_rollups = Table(
    "metric_rollups",
    metadata,
    Column("series_id", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    # "hour" or "day".
    Column("granularity", String(8), nullable=False),
    Column("bucket_start", UTCDateTime(), nullable=False),
    Column("count", BigInteger(), nullable=False),
    Column("sum", Float(), nullable=False),
    Column("m2", Float(), nullable=False),
    Column("min", Float(), nullable=False),
    Column("max", Float(), nullable=False),
    Column("first_time", UTCDateTime(), nullable=False),
    Column("last_time", UTCDateTime(), nullable=False),
    Column("last_value", Float(), nullable=False),
    Column("sketch", LargeBinary(), nullable=False),
    Column("update_time", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("series_id", "granularity", "bucket_start", name="pk_metric_rollups"),
)

# The first answer of a RecordMetrics call made with a request_id (the key
# itself is claimed in idempotency_keys), so that a repeat returns it.
metric_write_results = Table(
    "metric_write_results",
    metadata,
    Column("request_id", String(100), primary_key=True),
    Column("response", LargeBinary(), nullable=False),
    Column("create_time", UTCDateTime(), nullable=False),
    Index("ix_metric_write_results_create_time", "create_time"),
)

# ---- artifact content (issue #6) ---------------------------------------------------
#
# One row per content-addressed blob (the bytes live in the blob store under
# sha256/ab/cdef...). An upload inserts the row as `pending` before it moves
# the bytes to their address and marks it `present` after; the indexer's GC
# marks it `deleting` before it removes the bytes and deletes the row after,
# so no row ever claims bytes that are gone, and an upload never writes bytes
# that a collection is removing. Artifacts refer to a blob by
# artifacts.content_sha256 (no foreign key: a client may declare a hash
# before uploading). reference_time is the last time an upload started or
# finished on the blob; unreferenced_since is set by the GC when it first
# finds no live artifact referring to the blob, and cleared when one does.
content_blobs = Table(
    "content_blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size_bytes", BigInteger(), nullable=False),
    Column("state", String(20), nullable=False),
    Column("create_time", UTCDateTime(), nullable=False),
    Column("reference_time", UTCDateTime(), nullable=False),
    Column("unreferenced_since", UTCDateTime()),
    # The last verification by the indexer and its result: ok, mismatch or
    # missing (NULL: never verified).
    Column("verify_time", UTCDateTime()),
    Column("verify_status", String(20)),
    CheckConstraint("state IN ('pending', 'present', 'deleting')", name="state"),
    CheckConstraint("size_bytes >= 0", name="size_bytes"),
    Index("ix_content_blobs_state_unreferenced_since", "state", "unreferenced_since"),
    Index("ix_content_blobs_verify_time", "verify_time"),
)

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
