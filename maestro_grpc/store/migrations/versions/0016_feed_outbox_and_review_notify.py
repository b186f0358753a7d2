"""The activity feed's transactional outbox, and reviews that drop cached artifacts (issue 17).

Registry changes and moved predictions were told to the feed after their
write committed, so a process that died in between lost the event. Such a
write now appends a note to feed_outbox in its own transaction; a relay
turns notes into activity events and deletes them in one transaction
(maestro_grpc/store/outbox.py).

GetArtifact's per-replica cache (migration 0015) now holds the artifact's
review summary too, so a review must drop the entry on every replica: on
PostgreSQL a trigger on reviews NOTIFYs the artifact's id on the artifacts'
channel, `maestro_artifact_changed`, whoever writes the review.

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
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION maestro_notify_review_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify(
                'maestro_artifact_changed',
                (CASE WHEN TG_OP = 'DELETE' THEN OLD.artifact_id ELSE NEW.artifact_id END)::text
            );
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER reviews_notify_changed AFTER INSERT OR UPDATE OR DELETE ON reviews "
        "FOR EACH ROW EXECUTE FUNCTION maestro_notify_review_changed()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS reviews_notify_changed ON reviews")
        op.execute("DROP FUNCTION IF EXISTS maestro_notify_review_changed()")
    op.drop_table("feed_outbox")
