"""A project's revision (its etag) moves on every change, whoever makes it.

The service bumps `revision` itself; an operator's plain SQL UPDATE did not,
so a later UpdateProject with the old etag silently overwrote that change. A
trigger now bumps it whenever an UPDATE leaves it as it was (the service's
own updates set it, so they are untouched). Both stores: PostgreSQL with a
BEFORE UPDATE row trigger, SQLite with an AFTER UPDATE trigger (recursive
triggers are off, so its own UPDATE does not fire it again).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION maestro_bump_project_revision() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.revision = OLD.revision THEN
                    NEW.revision := OLD.revision + 1;
                END IF;
                RETURN NEW;
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER projects_bump_revision BEFORE UPDATE ON projects "
            "FOR EACH ROW EXECUTE FUNCTION maestro_bump_project_revision()"
        )
        return
    op.execute(
        "CREATE TRIGGER projects_bump_revision AFTER UPDATE ON projects "
        "FOR EACH ROW WHEN NEW.revision = OLD.revision "
        "BEGIN UPDATE projects SET revision = OLD.revision + 1 WHERE id = NEW.id; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS projects_bump_revision ON projects")
        op.execute("DROP FUNCTION IF EXISTS maestro_bump_project_revision()")
    else:
        op.execute("DROP TRIGGER IF EXISTS projects_bump_revision")
