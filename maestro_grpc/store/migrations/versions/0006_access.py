"""Access control: stored tokens and the audit log (issue #11).

Tokens keep only a SHA-256 of their secret. On PostgreSQL a trigger NOTIFYs
`maestro_token_changed` with the token's id on every change, so that every
replica drops its cached check of a revoked token within the notification's
delay (the cache is off while a replica's LISTEN connection is down).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from maestro_grpc.store.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TAG_LIST = postgresql.ARRAY(sa.Text()).with_variant(sa.JSON(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "access_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("project_ids", JSON_DOC),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("secret_prefix", sa.String(12), nullable=False),
        sa.Column("creator", sa.String(200), nullable=False),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.Column("expire_time", UTCDateTime()),
        sa.Column("revoke_time", UTCDateTime()),
        sa.Column("last_use_time", UTCDateTime()),
        sa.CheckConstraint(
            "role IN ('reader', 'writer', 'agent', 'admin')", name="ck_access_tokens_role"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_access_tokens"),
        sa.UniqueConstraint("secret_sha256", name="uq_access_tokens_secret_sha256"),
    )
    op.create_index(
        "ix_access_tokens_create_time_id", "access_tokens", ["create_time", "id"], unique=False
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("time", UTCDateTime(), nullable=False),
        sa.Column("token_id", sa.Uuid()),
        sa.Column("token_name", sa.String(100), server_default="", nullable=False),
        sa.Column("method", sa.String(200), nullable=False),
        sa.Column("resources", JSON_DOC, nullable=False),
        sa.Column("project_ids", TAG_LIST, nullable=False),
        sa.Column("request_id", sa.String(100), server_default="", nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("peer", sa.String(200), server_default="", nullable=False),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_time_id", "audit_events", ["time", "id"])
    op.create_index("ix_audit_events_token_id_time", "audit_events", ["token_id", "time"])
    op.create_index("ix_audit_events_method_time", "audit_events", ["method", "time"])
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE INDEX ix_audit_events_project_ids_gin ON audit_events USING gin (project_ids)"
    )
    op.execute(
        """
        CREATE FUNCTION maestro_notify_token_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify(
                'maestro_token_changed',
                CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END::text
            );
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER access_tokens_notify_changed "
        "AFTER INSERT OR UPDATE OR DELETE ON access_tokens "
        "FOR EACH ROW EXECUTE FUNCTION maestro_notify_token_changed()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS access_tokens_notify_changed ON access_tokens")
        op.execute("DROP FUNCTION IF EXISTS maestro_notify_token_changed()")
    op.drop_table("audit_events")
    op.drop_table("access_tokens")
