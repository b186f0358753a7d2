"""Prediction tables: meta-models, predictions, experiments (issue #5).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from maestro_grpc.store.types import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "meta_models",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("observation_days", sa.Integer(), nullable=False),
        sa.Column("training_set_size", sa.Integer(), nullable=False),
        sa.Column("positive_count", sa.Integer(), nullable=False),
        sa.Column("details", JSON_DOC, nullable=False),
        sa.Column("model", sa.LargeBinary(), nullable=False),
        sa.Column("mlflow_run_id", sa.String(100), server_default="", nullable=False),
        sa.Column("mlflow_model_uri", sa.String(300), server_default="", nullable=False),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_meta_models"),
    )

    op.create_table(
        "predictions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("base_log_odds", sa.Float(), nullable=False),
        sa.Column("contributions", JSON_DOC, nullable=False),
        sa.Column("extrapolation", sa.Boolean(), nullable=False),
        sa.Column("extrapolation_reasons", JSON_DOC, nullable=False),
        sa.Column("observation_end_time", UTCDateTime(), nullable=False),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_predictions_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_version"],
            ["meta_models.version"],
            name="fk_predictions_model_version_meta_models",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_predictions"),
    )
    op.create_index(
        "ix_predictions_project_id_create_time_id",
        "predictions",
        ["project_id", "create_time", "id"],
    )
    op.create_index(
        "ix_predictions_model_version_project_id",
        "predictions",
        ["model_version", "project_id"],
    )

    op.create_table(
        "experiments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("variants", JSON_DOC, nullable=False),
        sa.Column("outcome_metric", sa.String(200), nullable=False),
        sa.Column("salt", sa.String(100), nullable=False),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
    )

    op.create_table(
        "experiment_assignments",
        sa.Column("experiment_id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.String(200), nullable=False),
        sa.Column("variant", sa.String(63), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        sa.Column("assign_time", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name="fk_experiment_assignments_experiment_id_experiments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("experiment_id", "unit_id", name="pk_experiment_assignments"),
    )
    op.create_index(
        "ix_experiment_assignments_experiment_id_variant",
        "experiment_assignments",
        ["experiment_id", "variant"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_experiment_assignments_experiment_id_variant", table_name="experiment_assignments"
    )
    op.drop_table("experiment_assignments")
    op.drop_table("experiments")
    op.drop_index("ix_predictions_model_version_project_id", table_name="predictions")
    op.drop_index("ix_predictions_project_id_create_time_id", table_name="predictions")
    op.drop_table("predictions")
    op.drop_table("meta_models")
