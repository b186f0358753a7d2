"""The activity feed's transactional outbox (issue 17).

Registry changes and moved predictions were told to the feed after their
write committed, so a process that died in between lost the event. Such a
write now appends a note to feed_outbox in its own transaction; a relay
turns notes into activity events and deletes them in one transaction
(maestro_grpc/store/outbox.py).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from maestro_grpc.store.types import JSONDocument, UTCDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feed_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("topic", sa.String(40), nullable=False),
        sa.Column("payload", JSONDocument, nullable=False),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feed_outbox"),
    )


def downgrade() -> None:
    op.drop_table("feed_outbox")
