"""Metrics tables: metric series and points, process events, producers, rollups (issue #3).

On PostgreSQL metric_points is partitioned by range of time, with a DEFAULT
partition; monthly partitions are created on demand by the write path.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from maestro_grpc.store.types import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "metric_series",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_metric_series_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_metric_series"),
        sa.UniqueConstraint(
            "project_id", "name", "labels", name="uq_metric_series_project_id_name_labels"
        ),
    )

    op.create_table(
        "metric_points",
        sa.Column("series_id", BIGID, nullable=False),
        sa.Column("time", UTCDateTime(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.SmallInteger(), server_default="5", nullable=False),
        sa.PrimaryKeyConstraint("series_id", "time", name="pk_metric_points"),
        postgresql_partition_by="RANGE (time)",
        sqlite_with_rowid=False,
    )
    if dialect == "postgresql":
        op.execute("CREATE TABLE metric_points_default PARTITION OF metric_points DEFAULT")

    op.create_table(
        "process_events",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("natural_key", sa.String(600), nullable=False),
        sa.Column("ref", sa.String(100), server_default="", nullable=False),
        sa.Column("status", sa.String(20), server_default="", nullable=False),
        sa.Column("state_rank", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("time", UTCDateTime(), nullable=False),
        sa.Column("end_time", UTCDateTime(), nullable=True),
        sa.Column("payload", JSON_DOC, nullable=False),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.Column("update_time", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_process_events_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_process_events"),
        sa.UniqueConstraint(
            "project_id",
            "type",
            "natural_key",
            name="uq_process_events_project_id_type_natural_key",
        ),
    )
    op.create_index("ix_process_events_project_id_time", "process_events", ["project_id", "time"])
    op.create_index(
        "ix_process_events_project_id_type_time", "process_events", ["project_id", "type", "time"]
    )
    op.create_index("ix_process_events_project_id_ref", "process_events", ["project_id", "ref"])

    op.create_table(
        "metric_producers",
        sa.Column("producer_id", sa.String(200), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        sa.Column("committed_sequence", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("epoch", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.Column("update_time", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_metric_producers_project_id_projects",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("producer_id", name="pk_metric_producers"),
    )

    op.create_table(
        "metric_rollups",
        sa.Column("series_id", BIGID, nullable=False),
        sa.Column("granularity", sa.String(8), nullable=False),
        sa.Column("bucket_start", UTCDateTime(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("sum", sa.Float(), nullable=False),
        sa.Column("m2", sa.Float(), nullable=False),
        sa.Column("min", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.Column("first_time", UTCDateTime(), nullable=False),
        sa.Column("last_time", UTCDateTime(), nullable=False),
        sa.Column("last_value", sa.Float(), nullable=False),
        sa.Column("sketch", sa.LargeBinary(), nullable=False),
        sa.Column("update_time", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "series_id", "granularity", "bucket_start", name="pk_metric_rollups"
        ),
    )

    op.create_table(
        "metric_write_results",
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("response", sa.LargeBinary(), nullable=False),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name="pk_metric_write_results"),
    )
    op.create_index(
        "ix_metric_write_results_create_time", "metric_write_results", ["create_time"]
    )


def downgrade() -> None:
    op.drop_table("metric_write_results")
    op.drop_table("metric_rollups")
    op.drop_table("metric_producers")
    op.drop_table("process_events")
    # Dropping the parent drops every partition with it.
    op.drop_table("metric_points")
    op.drop_table("metric_series")
