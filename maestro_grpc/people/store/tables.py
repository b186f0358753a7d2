"""The people context's tables: the directory and its people's skills."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    true,
)

from maestro_grpc.store.schema import metadata
from maestro_grpc.store.types import JSONDocument, UTCDateTime

# `email` and `handle` are stored lower-cased, so their unique indexes
# compare them without case on both stores.
people = Table(
    "people",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("handle", String(40), nullable=False),
    Column("time_zone", String(64), nullable=False, server_default=""),
    Column("active", Boolean(), nullable=False, server_default=true()),
    Column("create_time", UTCDateTime(), nullable=False),
    Column("update_time", UTCDateTime(), nullable=False),
    Index("uq_people_email", "email", unique=True),
    Index("uq_people_handle", "handle", unique=True),
)

# One row a skill: SearchPeople asks "every one of these skills at this level
# or above" as one EXISTS per skill on (skill, level).
person_skills = Table(
    "person_skills",
    metadata,
    Column("person_id", Uuid(), ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    Column("skill", String(100), primary_key=True),
    Column("level", Integer(), nullable=False),
    Column("position", Integer(), nullable=False, server_default="0"),
    Index("ix_person_skills_skill_level", "skill", "level"),
)

# ---- discussion -----------------------------------------------------------------------

# A comment on a project or an artifact; `project_id` is the project that
# decides who sees it (the project, or the artifact's origin; NULL: none).
comments = Table(
    "comments",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("subject_kind", String(20), nullable=False),
    Column("subject_id", Uuid(), nullable=False),
    Column("project_id", Uuid()),
    Column("parent_id", Uuid(), ForeignKey("comments.id", ondelete="CASCADE")),
    Column("author_person_id", Uuid(), ForeignKey("people.id"), nullable=False),
    Column("body", Text(), nullable=False),
    Column("mentioned", JSONDocument, nullable=False),
    Column("state", String(20), nullable=False),
    Column("create_time", UTCDateTime(), nullable=False),
    Column("update_time", UTCDateTime(), nullable=False),
    Index("ix_comments_subject_create_time_id", "subject_kind", "subject_id", "create_time", "id"),
)

# Earlier bodies of edited comments (the history kept).
comment_edits = Table(
    "comment_edits",
    metadata,
    Column("comment_id", Uuid(), ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True),
    Column("edit_number", Integer(), primary_key=True, autoincrement=False),
    Column("body", Text(), nullable=False),
    Column("edit_time", UTCDateTime(), nullable=False),
)

# One review per person and artifact version.
reviews = Table(
    "reviews",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("artifact_id", Uuid(), nullable=False),
    Column("person_id", Uuid(), ForeignKey("people.id"), nullable=False),
    Column("rating", Integer(), nullable=False),
    Column("text", Text(), nullable=False, server_default=""),
    Column("create_time", UTCDateTime(), nullable=False),
    Column("update_time", UTCDateTime(), nullable=False),
    Index("uq_reviews_artifact_person", "artifact_id", "person_id", unique=True),
    Index("ix_reviews_artifact_update_time_id", "artifact_id", "update_time", "id"),
)

# ---- follows and the feed ---------------------------------------------------------------

# What a person follows: (kind, key) is a project's id, an artifact's name
# (every version), a person's id or a tag.
follows = Table(
    "follows",
    metadata,
    Column("person_id", Uuid(), ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("create_time", UTCDateTime(), nullable=False),
    # The last event when the follow began: a feed shows what came after.
    Column("since_seq", BigInteger(), nullable=False, server_default="0"),
    Index("ix_follows_kind_key", "kind", "key"),
)

# Every event, stored once. `seq` comes from activity_head, bumped in the
# event's transaction: the row lock orders events by commit, so a watcher
# reading "after seq" misses none.
activity_events = Table(
    "activity_events",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("kind", String(30), nullable=False),
    Column("summary", Text(), nullable=False),
    Column("project_id", Uuid()),
    Column("artifact_id", Uuid()),
    Column("comment_id", Uuid()),
    Column("actor_person_id", Uuid()),
    # What makes a repeat the same event (a retried create): recorded once.
    Column("dedupe_key", String(200)),
    Column("create_time", UTCDateTime(), nullable=False),
    Index("uq_activity_events_dedupe_key", "dedupe_key", unique=True),
)

# What each event is about: the feed joins these with the reader's follows
# ("inbox" targets a person directly: mentions, replies).
activity_targets = Table(
    "activity_targets",
    metadata,
    Column("kind", String(20), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column(
        "event_seq",
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("activity_events.seq", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Index("ix_activity_targets_event_seq", "event_seq"),
)

activity_head = Table(
    "activity_head",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("seq", BigInteger(), nullable=False),
)

# How far each person has read their feed.
activity_reads = Table(
    "activity_reads",
    metadata,
    Column("person_id", Uuid(), ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    Column("read_seq", BigInteger(), nullable=False),
)

# ---- webhooks -----------------------------------------------------------------------------

# The signing secret is kept as given: the server must sign with it.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("url", Text(), nullable=False),
    Column("format", String(10), nullable=False),
    Column("all_kinds", Boolean(), nullable=False),
    Column("max_attempts", Integer(), nullable=False),
    Column("secret", String(100), nullable=False),
    Column("active", Boolean(), nullable=False),
    Column("create_time", UTCDateTime(), nullable=False),
)

webhook_kinds = Table(
    "webhook_kinds",
    metadata,
    Column("webhook_id", Uuid(), ForeignKey("webhooks.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(30), primary_key=True),
)

# One row per event and webhook, made set-wise in the event's transaction.
# A pending row's next_attempt_time doubles as its lease while a sender holds it.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("webhook_id", Uuid(), ForeignKey("webhooks.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "event_seq",
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("activity_events.seq", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("kind", String(30), nullable=False),
    Column("state", String(10), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("next_attempt_time", UTCDateTime(), nullable=False),
    Column("last_status_code", Integer(), nullable=False),
    Column("last_error", Text(), nullable=False),
    Column("deliver_time", UTCDateTime()),
    Index("ix_webhook_deliveries_state_next_attempt_time", "state", "next_attempt_time"),
)
