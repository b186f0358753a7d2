"""The people directory (issue #17): people, their skills, and team members linked to them.

`people` and `person_skills` hold the directory; `team_members` gains
`directory_person_id`. Existing members are linked: every distinct e-mail
among the members' `person_id`s becomes a person (named as the latest
membership names them, handle from the e-mail's local part, each skill at a
level from the member's years of experience: under 2 beginner, under 5
intermediate, under 10 advanced, else expert); a member without an e-mail
is linked by its display name when exactly one of those people has it.
What could not be linked is written to `team_member_link_report` with the
reason (PeopleService.ListUnlinkedTeamMembers reads it) and counted in the
log.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

import logging
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from maestro_grpc.store.types import TagList, UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("maestro.migrations")

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")

_members = sa.table(
    "team_members",
    sa.column("id", sa.Uuid()),
    sa.column("project_id", sa.Uuid()),
    sa.column("person_id", sa.String()),
    sa.column("display_name", sa.String()),
    sa.column("years_experience", sa.Float()),
    sa.column("skills", TagList),
    sa.column("join_time", UTCDateTime()),
    sa.column("leave_time", UTCDateTime()),
    sa.column("directory_person_id", sa.Uuid()),
)


def _level(years: float) -> int:
    return 1 if years < 2 else 2 if years < 5 else 3 if years < 10 else 4


def _handle(email: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9._-]+", ".", email.split("@", 1)[0].lower()).strip("._-")[:34]
    base = base if len(base) >= 2 else f"person.{base}".strip(".")
    handle, n = base, 1
    while handle in taken:
        n += 1
        handle = f"{base}-{n}"
    taken.add(handle)
    return handle


def _create_tables() -> tuple[sa.Table, sa.Table, sa.Table]:
    people = op.create_table(
        "people",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("handle", sa.String(40), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False, server_default=""),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.Column("update_time", UTCDateTime(), nullable=False),
    )
    op.create_index("uq_people_email", "people", ["email"], unique=True)
    op.create_index("uq_people_handle", "people", ["handle"], unique=True)
    skills = op.create_table(
        "person_skills",
        sa.Column(
            "person_id",
            sa.Uuid(),
            sa.ForeignKey("people.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("skill", sa.String(100), primary_key=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index("ix_person_skills_skill_level", "person_skills", ["skill", "level"])
    op.add_column("team_members", sa.Column("directory_person_id", sa.Uuid()))
    op.add_column("access_tokens", sa.Column("person_id", sa.Uuid()))
    op.create_index("ix_team_members_directory_person_id", "team_members", ["directory_person_id"])
    where = sa.text("leave_time IS NULL AND directory_person_id IS NOT NULL")
    op.create_index(
        "uq_team_members_current_directory_person",
        "team_members",
        ["project_id", "directory_person_id"],
        unique=True,
        postgresql_where=where,
        sqlite_where=where,
    )
    report = op.create_table(
        "team_member_link_report",
        sa.Column(
            "team_member_id",
            sa.Uuid(),
            sa.ForeignKey("team_members.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("report_time", UTCDateTime(), nullable=False),
    )
    return people, skills, report


def _people_from_emails(
    rows: list[Any], now: datetime
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """One person per distinct e-mail (by lower case), and their skills' rows."""
    people: dict[str, dict[str, Any]] = {}
    levels: dict[str, dict[str, int]] = {}
    taken: set[str] = set()
    for row in rows:  # by join time: the latest name wins
        email = row.person_id.strip().lower()
        if not EMAIL.match(email) or len(email) > 254:
            continue
        person = people.get(email)
        if person is None:
            person = people[email] = {
                "id": uuid.uuid4(),
                "display_name": email.split("@", 1)[0],
                "email": email,
                "handle": _handle(email, taken),
                "time_zone": "",
                "active": True,
                "create_time": now,
                "update_time": now,
            }
        if row.display_name.strip():
            person["display_name"] = row.display_name.strip()
        mine = levels.setdefault(email, {})
        for skill in row.skills or ():
            mine[skill] = max(mine.get(skill, 0), _level(row.years_experience or 0.0))
    skill_rows = [
        {"person_id": people[email]["id"], "skill": skill, "level": level, "position": i}
        for email, found in levels.items()
        for i, (skill, level) in enumerate(list(found.items())[:100])
    ]
    return people, skill_rows


def _link(rows: list[Any], people: dict[str, dict[str, Any]]) -> tuple[dict[Any, Any], dict[Any, str]]:
    """member id -> person id for those linked, member id -> reason for the rest."""
    by_name: dict[str, list[Any]] = {}
    for person in people.values():
        by_name.setdefault(person["display_name"].lower(), []).append(person["id"])
    links: dict[Any, Any] = {}
    reasons: dict[Any, str] = {}
    current: set[tuple[Any, Any]] = set()
    for row in rows:
        email = row.person_id.strip().lower()
        name = row.display_name.strip()
        if email in people:
            person_id = people[email]["id"]
        elif not name:
            reasons[row.id] = "no e-mail and no name to link by"
            continue
        elif len(by_name.get(name.lower(), [])) != 1:
            count = len(by_name.get(name.lower(), []))
            reasons[row.id] = (
                f"no e-mail, and no person of the directory is named {name!r}"
                if count == 0
                else f"no e-mail, and {count} people of the directory are named {name!r}"
            )
            continue
        else:
            person_id = by_name[name.lower()][0]
        if row.leave_time is None:
            if (row.project_id, person_id) in current:
                reasons[row.id] = "its person is already on this project's current team"
                continue
            current.add((row.project_id, person_id))
        links[row.id] = person_id
    return links, reasons


def _create_collaboration_tables() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("subject_kind", sa.String(20), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid()),
        sa.Column("parent_id", sa.Uuid(), sa.ForeignKey("comments.id", ondelete="CASCADE")),
        sa.Column("author_person_id", sa.Uuid(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("mentioned", _JSON, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.Column("update_time", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_comments_subject_create_time_id", "comments", ["subject_kind", "subject_id", "create_time", "id"])
    op.create_table(
        "comment_edits",
        sa.Column("comment_id", sa.Uuid(), sa.ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("edit_number", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("edit_time", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("artifact_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False, server_default=""),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.Column("update_time", UTCDateTime(), nullable=False),
    )
    op.create_index("uq_reviews_artifact_person", "reviews", ["artifact_id", "person_id"], unique=True)
    op.create_index("ix_reviews_artifact_update_time_id", "reviews", ["artifact_id", "update_time", "id"])
    op.create_table(
        "follows",
        sa.Column("person_id", sa.Uuid(), sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.Column("since_seq", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.create_index("ix_follows_kind_key", "follows", ["kind", "key"])
    op.create_table(
        "activity_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Uuid()),
        sa.Column("artifact_id", sa.Uuid()),
        sa.Column("comment_id", sa.Uuid()),
        sa.Column("actor_person_id", sa.Uuid()),
        sa.Column("dedupe_key", sa.String(200)),
        sa.Column("create_time", UTCDateTime(), nullable=False),
    )
    op.create_index("uq_activity_events_dedupe_key", "activity_events", ["dedupe_key"], unique=True)
    op.create_table(
        "activity_targets",
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column(
            "event_seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("activity_events.seq", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
    )
    op.create_index("ix_activity_targets_event_seq", "activity_targets", ["event_seq"])
    op.create_table(
        "activity_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "activity_reads",
        sa.Column("person_id", sa.Uuid(), sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("read_seq", sa.BigInteger(), nullable=False),
    )

    op.create_table(
        "webhooks",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("all_kinds", sa.Boolean(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("create_time", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "webhook_kinds",
        sa.Column(
            "webhook_id",
            sa.Uuid(),
            sa.ForeignKey("webhooks.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(30), primary_key=True),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column(
            "webhook_id",
            sa.Uuid(),
            sa.ForeignKey("webhooks.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "event_seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("activity_events.seq", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_time", UTCDateTime(), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("deliver_time", UTCDateTime()),
    )
    op.create_index(
        "ix_webhook_deliveries_state_next_attempt_time",
        "webhook_deliveries",
        ["state", "next_attempt_time"],
    )


def upgrade() -> None:
    people_table, skills_table, report_table = _create_tables()
    _create_collaboration_tables()
    bind = op.get_bind()
    rows = list(bind.execute(sa.select(_members).order_by(_members.c.join_time, _members.c.id)))
    now = datetime.now(UTC)
    people, skill_rows = _people_from_emails(rows, now)
    if people:
        op.bulk_insert(people_table, list(people.values()))
    if skill_rows:
        op.bulk_insert(skills_table, skill_rows)
    links, reasons = _link(rows, people)
    for member_id, person_id in links.items():
        bind.execute(
            sa.update(_members)
            .where(_members.c.id == member_id)
            .values(directory_person_id=person_id)
        )
    if reasons:
        op.bulk_insert(
            report_table,
            [{"team_member_id": k, "reason": r, "report_time": now} for k, r in reasons.items()],
        )
    if rows:
        log.warning(
            "0014: %d people made from e-mails; %d of %d team members linked, %d not "
            "(PeopleService.ListUnlinkedTeamMembers says why)",
            len(people),
            len(links),
            len(rows),
            len(reasons),
        )
        for member_id, reason in reasons.items():
            log.warning("0014: team member %s not linked: %s", member_id, reason)


def downgrade() -> None:
    for table in (
        "webhook_deliveries",
        "webhook_kinds",
        "webhooks",
        "activity_reads",
        "activity_head",
        "activity_targets",
        "activity_events",
        "follows",
        "reviews",
        "comment_edits",
        "comments",
    ):
        op.drop_table(table)
    op.drop_table("team_member_link_report")
    op.drop_index("uq_team_members_current_directory_person", "team_members")
    op.drop_index("ix_team_members_directory_person_id", "team_members")
    op.execute("ALTER TABLE team_members DROP COLUMN directory_person_id")
    op.execute("ALTER TABLE access_tokens DROP COLUMN person_id")
    op.drop_table("person_skills")
    op.drop_table("people")
