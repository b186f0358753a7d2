"""A merged pull request's natural key holds its merge commit (issue #16, item 5).

Pull requests were keyed by (repo, number), but numbers repeat: histories
joined into one repository reuse them, and a number can be merged twice, so
one merge replaced the other. A merged pull request with a merge commit is
now keyed by (repo, number, merge commit); the stored ones are re-keyed the
same way, so a later walk of the same history finds them and stores nothing
twice. Open and closed pull requests keep (repo, number).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _separator() -> str:
    # The key's part separator is U+001F (maestro_grpc.metrics.wire.eventconv.key).
    return "chr(31)" if op.get_bind().dialect.name == "postgresql" else "char(31)"


def upgrade() -> None:
    op.execute(
        f"UPDATE process_events SET natural_key = natural_key || {_separator()} || ref "
        "WHERE type = 'pull_request' AND status = 'merged' AND ref <> ''"
    )


def downgrade() -> None:
    # Two merges of one number cannot share the old key: keep the latest.
    sep = _separator()
    op.execute(
        "DELETE FROM process_events WHERE type = 'pull_request' AND status = 'merged' "
        "AND ref <> '' AND EXISTS (SELECT 1 FROM process_events AS later "
        "WHERE later.project_id = process_events.project_id AND later.type = 'pull_request' "
        "AND later.status = 'merged' AND later.ref <> '' "
        "AND substr(later.natural_key, 1, length(later.natural_key) - length(later.ref) - 1) "
        "= substr(process_events.natural_key, 1, "
        "length(process_events.natural_key) - length(process_events.ref) - 1) "
        "AND (later.end_time > process_events.end_time "
        "OR (later.end_time = process_events.end_time AND later.id > process_events.id)))"
    )
    op.execute(
        "UPDATE process_events SET natural_key = substr(natural_key, 1, "
        f"length(natural_key) - length(ref) - 1) WHERE type = 'pull_request' "
        f"AND status = 'merged' AND ref <> '' AND substr(natural_key, "
        f"length(natural_key) - length(ref), 1) = {sep}"
    )
