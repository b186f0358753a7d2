"""The live feed in the store: an outbox of each write, per project in sequence (issue #18).

WatchMetrics used to hear of writes only through the event bus: a write
whose publish failed (Redis down or frozen) or never happened (the replica
died between its commit and its publish) was missed by every watcher,
silently. Each write now appends its encoded rows to metric_feed in its own
transaction, under a per-project sequence kept in metric_feed_heads; the bus
only makes delivery prompt, and a watcher reads what it did not bring from
here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from maestro_grpc.store.types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metric_feed",
        sa.Column(
            "project_id",
            sa.Uuid(),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "sequence", name="pk_metric_feed"),
    )
    op.create_index("ix_metric_feed_create_time", "metric_feed", ["create_time"])
    op.create_table(
        "metric_feed_heads",
        sa.Column(
            "project_id",
            sa.Uuid(),
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Short-lived bytes: not worth compressing on the write path.
        op.execute("ALTER TABLE metric_feed ALTER COLUMN payload SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("metric_feed_heads")
    op.drop_index("ix_metric_feed_create_time", table_name="metric_feed")
    op.drop_table("metric_feed")
