"""Project change feed: NOTIFY on every change to a project or its team (PostgreSQL).

Replicas cache GetProject answers and drop an entry when its project's id
arrives on `maestro_project_changed` (see maestro_grpc/registry/project_cache.py).
A trigger rather than application code sends it, so that no writer, whether
this service, a worker or an operator with psql, can change a project without
it. NOTIFY is transactional: it is delivered when, and only if, the change
commits. SQLite has no notifications; there the cache is off.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION maestro_notify_project_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            changed uuid;
        BEGIN
            IF TG_TABLE_NAME = 'projects' THEN
                changed := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
            ELSE
                changed := CASE WHEN TG_OP = 'DELETE' THEN OLD.project_id ELSE NEW.project_id END;
                IF TG_OP = 'UPDATE' AND OLD.project_id IS DISTINCT FROM NEW.project_id THEN
                    PERFORM pg_notify('maestro_project_changed', OLD.project_id::text);
                END IF;
            END IF;
            PERFORM pg_notify('maestro_project_changed', changed::text);
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER projects_notify_changed AFTER UPDATE OR DELETE ON projects "
        "FOR EACH ROW EXECUTE FUNCTION maestro_notify_project_changed()"
    )
    op.execute(
        "CREATE TRIGGER team_members_notify_changed "
        "AFTER INSERT OR UPDATE OR DELETE ON team_members "
        "FOR EACH ROW EXECUTE FUNCTION maestro_notify_project_changed()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS team_members_notify_changed ON team_members")
    op.execute("DROP TRIGGER IF EXISTS projects_notify_changed ON projects")
    op.execute("DROP FUNCTION IF EXISTS maestro_notify_project_changed()")
