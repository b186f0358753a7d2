"""Artifact change feed: NOTIFY on every change to an artifact (PostgreSQL).

Replicas cache GetArtifact answers as they cache GetProject's, and drop an
entry when its artifact's id arrives on `maestro_artifact_changed` (see
maestro_grpc/registry/domain/project_cache.py). As for projects, a trigger
sends it, so that no writer (this service, the indexer worker rescoring
impact, an operator with psql) can change an artifact without it; NOTIFY is
delivered when, and only if, the change commits. Inserts need none: an id
nobody could read before is never cached. SQLite has no notifications;
there the cache is off.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION maestro_notify_artifact_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify(
                'maestro_artifact_changed',
                (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)::text
            );
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER artifacts_notify_changed AFTER UPDATE OR DELETE ON artifacts "
        "FOR EACH ROW EXECUTE FUNCTION maestro_notify_artifact_changed()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS artifacts_notify_changed ON artifacts")
    op.execute("DROP FUNCTION IF EXISTS maestro_notify_artifact_changed()")
