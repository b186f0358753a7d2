"""Prediction you can rely on (issue #19): versions without skill, and their warnings.

`meta_models.serves_by_default` is false for a version without skill that
was not asked to serve anyway ("the latest" skips it); every existing
version keeps serving. `predictions` gains `no_skill` and `warnings`.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column(
        "meta_models",
        sa.Column("serves_by_default", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.add_column(
        "predictions",
        sa.Column("no_skill", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("predictions", sa.Column("warnings", _JSON, nullable=False, server_default="[]"))


def downgrade() -> None:
    for table, name in (
        ("predictions", "warnings"),
        ("predictions", "no_skill"),
        ("meta_models", "serves_by_default"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
