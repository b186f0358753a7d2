"""The Access context's table: tokens (the audit log is shared: store/schema.py)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Index, String, Table, Uuid

from maestro_grpc.store.schema import metadata
from maestro_grpc.store.types import JSONDocument, UTCDateTime

# A token's secret is never stored: only its SHA-256 (a secret is 32 random
# bytes, so a fast hash is as strong as a slow one) and its first characters,
# to tell tokens apart in lists. project_ids NULL means every project.
access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("project_ids", JSONDocument),
    Column("secret_sha256", String(64), nullable=False, unique=True),
    Column("secret_prefix", String(12), nullable=False),
    Column("creator", String(200), nullable=False),
    Column("create_time", UTCDateTime(), nullable=False),
    Column("expire_time", UTCDateTime()),
    Column("revoke_time", UTCDateTime()),
    Column("last_use_time", UTCDateTime()),
    # The person of the directory it belongs to (no foreign key: the people
    # context owns that table).
    Column("person_id", Uuid()),
    CheckConstraint("role IN ('reader', 'writer', 'agent', 'admin')", name="role"),
    Index("ix_access_tokens_create_time_id", "create_time", "id"),
)
