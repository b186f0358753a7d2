"""Artifact content: the content-addressed blobs artifacts refer to (issue #6).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from maestro_grpc.store.types import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "content_blobs",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.Column("reference_time", UTCDateTime(), nullable=False),
        sa.Column("unreferenced_since", UTCDateTime(), nullable=True),
        sa.Column("verify_time", UTCDateTime(), nullable=True),
        sa.Column("verify_status", sa.String(20), nullable=True),
        sa.PrimaryKeyConstraint("sha256", name="pk_content_blobs"),
        sa.CheckConstraint(
            "state IN ('pending', 'present', 'deleting')", name=op.f("ck_content_blobs_state")
        ),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_content_blobs_size_bytes")),
    )
    op.create_index(
        "ix_content_blobs_state_unreferenced_since",
        "content_blobs",
        ["state", "unreferenced_since"],
    )
    op.create_index("ix_content_blobs_verify_time", "content_blobs", ["verify_time"])


def downgrade() -> None:
    op.drop_index("ix_content_blobs_verify_time", table_name="content_blobs")
    op.drop_index("ix_content_blobs_state_unreferenced_since", table_name="content_blobs")
    op.drop_table("content_blobs")
