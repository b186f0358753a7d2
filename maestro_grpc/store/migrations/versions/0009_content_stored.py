"""An artifact holds content only once the server stored it (issue #18, item 7).

A client may declare an artifact's content_sha256 before uploading; that
declaration alone used to make a blob with that hash the artifact's content,
so knowing a hash was enough to read it. `content_stored` is set only when
an upload (or an adopted URL upload) links the artifact to bytes the server
received and hashed; downloads require it. Artifacts linked before this
migration carry the server's own blob address in storage_uri: those are
marked stored.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both stores: a batch (copy-and-move) alter on SQLite
    # would drop the artifacts table's full-text triggers.
    op.add_column(
        "artifacts",
        sa.Column("content_stored", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(
        "UPDATE artifacts SET content_stored = true "
        "WHERE content_sha256 <> '' AND storage_uri LIKE '%/sha256/%' "
        "AND (storage_uri LIKE 'file://%' OR storage_uri LIKE 's3://%')"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE artifacts DROP COLUMN content_stored")
