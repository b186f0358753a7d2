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
    MetaData,
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
