"""Experiments a team can trust (issue #12): metrics, a window, a status, projects counted once.

`experiments` gains the hypothesis, the metric definitions, start and end
times and the sequential-testing settings; `experiment_unit_projects`
holds the projects counted for each unit, each project once per
experiment. Existing assignments with a project are linked to it, the
earliest assigned unit keeping a project that several named.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from maestro_grpc.store.types import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("experiments", sa.Column("hypothesis", sa.Text(), nullable=False, server_default=""))
    op.add_column("experiments", sa.Column("metrics", _JSON, nullable=False, server_default="[]"))
    op.add_column("experiments", sa.Column("start_time", UTCDateTime()))
    op.add_column("experiments", sa.Column("end_time", UTCDateTime()))
    op.add_column(
        "experiments",
        sa.Column("sequential", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "experiments", sa.Column("tuning", sa.Float(), nullable=False, server_default="5000")
    )
    op.create_index("ix_experiments_create_time_id", "experiments", ["create_time", "id"])
    op.create_table(
        "experiment_unit_projects",
        sa.Column(
            "experiment_id",
            sa.Uuid(),
            sa.ForeignKey("experiments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("project_id", sa.Uuid(), primary_key=True),
        sa.Column("unit_id", sa.String(200), nullable=False),
        sa.Column("link_time", UTCDateTime(), nullable=False),
    )
    op.execute(
        "INSERT INTO experiment_unit_projects (experiment_id, project_id, unit_id, link_time) "
        "SELECT a.experiment_id, a.project_id, a.unit_id, a.assign_time "
        "FROM experiment_assignments a WHERE a.project_id IS NOT NULL AND NOT EXISTS ("
        "SELECT 1 FROM experiment_assignments b WHERE b.experiment_id = a.experiment_id "
        "AND b.project_id = a.project_id AND (b.assign_time < a.assign_time "
        "OR (b.assign_time = a.assign_time AND b.unit_id < a.unit_id)))"
    )


def downgrade() -> None:
    op.drop_table("experiment_unit_projects")
    op.drop_index("ix_experiments_create_time_id", "experiments")
    for name in ("tuning", "sequential", "end_time", "start_time", "metrics", "hypothesis"):
        op.execute(f"ALTER TABLE experiments DROP COLUMN {name}")
