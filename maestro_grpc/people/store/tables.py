"""The people context's tables: the directory and its people's skills."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Uuid,
    true,
)

from maestro_grpc.store.schema import metadata
from maestro_grpc.store.types import UTCDateTime

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
