"""Registry tables (projects, team members, artifacts, usages), idempotency keys, worker jobs.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from maestro_grpc.store.types import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TAGS = postgresql.ARRAY(sa.Text()).with_variant(sa.JSON(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
LIVE = sa.text("delete_time IS NULL")
CURRENT = sa.text("leave_time IS NULL")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "projects",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("labels", JSON_DOC, nullable=False),
        sa.Column("repo_url", sa.Text(), server_default="", nullable=False),
        sa.Column("mlflow_experiment_id", sa.String(200), server_default="", nullable=False),
        sa.Column("start_time", UTCDateTime(), nullable=True),
        sa.Column("end_time", UTCDateTime(), nullable=True),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.Column("update_time", UTCDateTime(), nullable=False),
        sa.Column("revision", sa.Integer(), server_default="1", nullable=False),
        sa.Column("success_succeeded", sa.Boolean(), nullable=True),
        sa.Column("success_score", sa.Float(), nullable=True),
        sa.Column("success_time_to_production_seconds", sa.Float(), nullable=True),
        sa.Column("success_metric_name", sa.String(200), nullable=True),
        sa.Column("success_metric_value", sa.Float(), nullable=True),
        sa.Column("success_business_impact", sa.Text(), nullable=True),
        sa.Column("success_notes", sa.Text(), nullable=True),
        sa.Column("success_record_time", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_projects"),
        sa.UniqueConstraint("name", name="uq_projects_name"),
    )
    op.create_index("ix_projects_create_time_id", "projects", ["create_time", "id"])
    op.create_index("ix_projects_status", "projects", ["status"])

    op.create_table(
        "team_members",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.String(200), nullable=False),
        sa.Column("display_name", sa.String(200), server_default="", nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("years_experience", sa.Float(), server_default="0", nullable=False),
        sa.Column("skills", TAGS, nullable=False),
        sa.Column("allocation", sa.Float(), server_default="1", nullable=False),
        sa.Column("join_time", UTCDateTime(), nullable=False),
        sa.Column("leave_time", UTCDateTime(), nullable=True),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.Column("update_time", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_team_members_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_team_members"),
    )
    op.create_index(
        "ix_team_members_project_id_join_time_id",
        "team_members",
        ["project_id", "join_time", "id"],
    )
    op.create_index(
        "uq_team_members_current_person",
        "team_members",
        ["project_id", "person_id"],
        unique=True,
        postgresql_where=CURRENT,
        sqlite_where=CURRENT,
    )

    op.create_table(
        "artifacts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("tags", TAGS, nullable=False),
        sa.Column("origin_project_id", sa.Uuid(), nullable=True),
        sa.Column("creator", sa.String(200), server_default="", nullable=False),
        sa.Column("metadata", JSON_DOC, nullable=False),
        sa.Column("content_sha256", sa.String(64), server_default="", nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("storage_uri", sa.Text(), server_default="", nullable=False),
        sa.Column("usage_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("impact_score", sa.Float(), server_default="0", nullable=False),
        sa.Column("search_text", sa.Text(), server_default="", nullable=False),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.Column("update_time", UTCDateTime(), nullable=False),
        sa.Column("delete_time", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "impact_score >= 0 AND impact_score <= 100", name=op.f("ck_artifacts_impact_range")
        ),
        sa.ForeignKeyConstraint(
            ["origin_project_id"],
            ["projects.id"],
            name="fk_artifacts_origin_project_id_projects",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_artifacts"),
    )
    op.create_index("ix_artifacts_content_sha256", "artifacts", ["content_sha256"])
    op.create_index("ix_artifacts_create_time_id", "artifacts", ["create_time", "id"])
    op.create_index(
        "ix_artifacts_live_impact",
        "artifacts",
        ["impact_score", "id"],
        postgresql_where=LIVE,
        sqlite_where=LIVE,
        postgresql_include=["type", "tags"],
    )
    op.create_index(
        "ix_artifacts_live_type_impact",
        "artifacts",
        ["type", "impact_score", "id"],
        postgresql_where=LIVE,
        sqlite_where=LIVE,
        postgresql_include=["tags"],
    )
    op.create_index("ix_artifacts_origin_project_id", "artifacts", ["origin_project_id"])
    op.create_index("ix_artifacts_usage_count_id", "artifacts", ["usage_count", "id"])
    op.create_index(
        "uq_artifacts_live_name_version",
        "artifacts",
        ["name", "version"],
        unique=True,
        postgresql_where=LIVE,
        sqlite_where=LIVE,
    )

    if dialect == "postgresql":
        # Tags: GIN for && (any-of) and @> (all-of). Text: a tsvector kept by
        # PostgreSQL itself from search_text, GIN-indexed.
        op.execute("CREATE INDEX ix_artifacts_tags_gin ON artifacts USING gin (tags)")
        op.execute(
            "ALTER TABLE artifacts ADD COLUMN search_vector tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED"
        )
        op.execute(
            "CREATE INDEX ix_artifacts_search_vector ON artifacts USING gin (search_vector)"
        )
    else:
        # SQLite: an FTS5 index kept by triggers. FTS5 needs integer rowids
        # and an artifact's implicit rowid may change on VACUUM, so a small
        # table maps artifact ids to stable FTS rowids.
        op.execute(
            "CREATE TABLE artifact_search_rowids ("
            "rowid INTEGER PRIMARY KEY, artifact_id CHAR(32) NOT NULL UNIQUE)"
        )
        op.execute(
            "CREATE VIRTUAL TABLE artifact_search USING fts5("
            "search_text, tokenize = 'unicode61 remove_diacritics 0')"
        )
        op.execute(
            "CREATE TRIGGER artifacts_search_insert AFTER INSERT ON artifacts BEGIN "
            "INSERT INTO artifact_search_rowids (artifact_id) VALUES (new.id); "
            "INSERT INTO artifact_search (rowid, search_text) VALUES ("
            "(SELECT rowid FROM artifact_search_rowids WHERE artifact_id = new.id), "
            "new.search_text); END"
        )
        op.execute(
            "CREATE TRIGGER artifacts_search_update AFTER UPDATE OF search_text ON artifacts "
            "BEGIN UPDATE artifact_search SET search_text = new.search_text WHERE rowid = "
            "(SELECT rowid FROM artifact_search_rowids WHERE artifact_id = new.id); END"
        )
        op.execute(
            "CREATE TRIGGER artifacts_search_delete AFTER DELETE ON artifacts BEGIN "
            "DELETE FROM artifact_search WHERE rowid = "
            "(SELECT rowid FROM artifact_search_rowids WHERE artifact_id = old.id); "
            "DELETE FROM artifact_search_rowids WHERE artifact_id = old.id; END"
        )

    op.create_table(
        "artifact_usages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("artifact_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("used_by", sa.String(200), server_default="", nullable=False),
        sa.Column("purpose", sa.Text(), server_default="", nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("use_time", UTCDateTime(), nullable=False),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["artifacts.id"],
            name="fk_artifact_usages_artifact_id_artifacts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_artifact_usages_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_artifact_usages"),
    )
    op.create_index(
        "ix_artifact_usages_artifact_id_use_time_id",
        "artifact_usages",
        ["artifact_id", "use_time", "id"],
    )
    op.create_index(
        "ix_artifact_usages_project_id_use_time_id",
        "artifact_usages",
        ["project_id", "use_time", "id"],
    )

    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(100), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("resource_id", sa.String(100), server_default="", nullable=False),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "request_id", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_create_time", "idempotency_keys", ["create_time"])

    op.create_table(
        "worker_jobs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("queue", sa.String(50), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("payload", JSON_DOC, nullable=False),
        sa.Column("generation", sa.Integer(), server_default="1", nullable=False),
        sa.Column("run_after", UTCDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_expire_time", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_worker_jobs"),
        sa.UniqueConstraint("queue", "key", name="uq_worker_jobs_queue_key"),
    )
    op.create_index("ix_worker_jobs_queue_run_after", "worker_jobs", ["queue", "run_after"])


def downgrade() -> None:
    op.drop_table("worker_jobs")
    op.drop_table("idempotency_keys")
    op.drop_table("artifact_usages")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER artifacts_search_delete")
        op.execute("DROP TRIGGER artifacts_search_update")
        op.execute("DROP TRIGGER artifacts_search_insert")
        op.execute("DROP TABLE artifact_search")
        op.execute("DROP TABLE artifact_search_rowids")
    op.drop_table("artifacts")
    op.drop_table("team_members")
    op.drop_table("projects")
