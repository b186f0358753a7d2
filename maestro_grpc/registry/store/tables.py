"""The registry's tables: projects, their teams, artifacts, their usages and content blobs."""

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
    String,
    Table,
    Text,
    Uuid,
    false,
    text,
)

from maestro_grpc.store.schema import metadata
from maestro_grpc.store.types import JSONDocument, TagList, UTCDateTime

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
    # The person of the directory (maestro_grpc/people) this membership is;
    # no foreign key: the people context owns its table (people are never
    # deleted, only made inactive).
    Column("directory_person_id", Uuid()),
    Index("ix_team_members_project_id_join_time_id", "project_id", "join_time", "id"),
    Index("ix_team_members_directory_person_id", "directory_person_id"),
    # A person is at most once on a project's current team.
    Index(
        "uq_team_members_current_person",
        "project_id",
        "person_id",
        unique=True,
        postgresql_where=text("leave_time IS NULL"),
        sqlite_where=text("leave_time IS NULL"),
    ),
    # ... and so is a person of the directory, whichever id they were added by.
    Index(
        "uq_team_members_current_directory_person",
        "project_id",
        "directory_person_id",
        unique=True,
        postgresql_where=text("leave_time IS NULL AND directory_person_id IS NOT NULL"),
        sqlite_where=text("leave_time IS NULL AND directory_person_id IS NOT NULL"),
    ),
)

# Why migration 0014 could not link a member to a person (ListUnlinkedTeamMembers).
team_member_link_report = Table(
    "team_member_link_report",
    metadata,
    Column(
        "team_member_id",
        Uuid(),
        ForeignKey("team_members.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("reason", Text(), nullable=False),
    Column("report_time", UTCDateTime(), nullable=False),
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
    # Whether the server stored this content (an upload linked it); a hash
    # a client only declared gives no access to a blob with that hash.
    Column("content_stored", Boolean(), nullable=False, server_default=false()),
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
