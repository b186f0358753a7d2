"""The one MetaData every context's tables live on, and the tables no context owns.

Each context keeps its own tables in `<context>/store/tables.py`;
`maestro_grpc/catalog.py` gathers them all (for migrations and the schema
test). Alembic migrations under `migrations/versions` create exactly these;
a test compares the two. Things one store has and the other lacks (PostgreSQL's
generated tsvector column and GIN indexes, SQLite's FTS5 table and its
triggers) live only in the migrations and are named in `DIALECT_ONLY`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from maestro_grpc.store.types import JSONDocument, TagList, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# Objects that exist on one dialect only; the schema comparison ignores them.
DIALECT_ONLY = {
    "artifact_search",
    "artifact_search_rowids",
    "ix_artifacts_search_vector",
    "ix_artifacts_tags_gin",
    "search_vector",
    "metric_points_default",
    "ix_audit_events_project_ids_gin",
}
# Object names starting with these exist on one dialect only (PostgreSQL's
# monthly partitions of metric_points).
DIALECT_ONLY_PREFIXES = ("metric_points_p",)

# request_id idempotency (AIP-155): the first call of a (scope, request_id)
# claims the row in its own transaction; a repeat finds it and returns the
# resource it made.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(100), primary_key=True),
    Column("request_id", String(100), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("resource_id", String(100), nullable=False, server_default=""),
    Column("create_time", UTCDateTime(), nullable=False),
    Index("ix_idempotency_keys_create_time", "create_time"),
)

# Work for the background workers (metrics rollups, the artifact indexer).
# A job is identified by (queue, key); enqueueing it again while it waits or
# runs bumps its generation, so a worker that finishes an older generation
# leaves it queued for another pass. Workers lease jobs with
# FOR UPDATE SKIP LOCKED on PostgreSQL (any number of replicas) and one at a
# time on SQLite.
worker_jobs = Table(
    "worker_jobs",
    metadata,
    Column(
        "id",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("queue", String(50), nullable=False),
    Column("key", String(300), nullable=False),
    Column("payload", JSONDocument, nullable=False),
    Column("generation", Integer(), nullable=False, server_default="1"),
    Column("run_after", UTCDateTime(), nullable=False),
    Column("lease_owner", String(200)),
    Column("lease_expire_time", UTCDateTime()),
    Column("attempts", Integer(), nullable=False, server_default="0"),
    Column("last_error", Text()),
    Column("create_time", UTCDateTime(), nullable=False),
    UniqueConstraint("queue", "key", name="uq_worker_jobs_queue_key"),
    Index("ix_worker_jobs_queue_run_after", "queue", "run_after"),
)

# The audit log: one row per audited call (a successful write, a token
# change, a denied call). A write's row is appended in the write's own
# transaction (store/db.py). No foreign keys: events outlive tokens and
# projects, and static tokens have no row.
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("time", UTCDateTime(), nullable=False),
    Column("token_id", Uuid()),
    Column("token_name", String(100), nullable=False, server_default=""),
    Column("method", String(200), nullable=False),
    Column("resources", JSONDocument, nullable=False),
    Column("project_ids", TagList, nullable=False),
    Column("request_id", String(100), nullable=False, server_default=""),
    Column("code", String(40), nullable=False),
    Column("peer", String(200), nullable=False, server_default=""),
    Column("detail", Text(), nullable=False, server_default=""),
    Index("ix_audit_events_time_id", "time", "id"),
    Index("ix_audit_events_token_id_time", "token_id", "time"),
    Index("ix_audit_events_method_time", "method", "time"),
)

# Secrets every replica shares (the page-token key), made by the first
# server to need one (store/secrets.py).
service_secrets = Table(
    "service_secrets",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("secret", LargeBinary(), nullable=False),
    Column("create_time", UTCDateTime(), nullable=False),
)

# The feed's transactional outbox (store/outbox.py): a change worth an
# activity event, written in the changing write's own transaction and moved
# into the feed (and deleted) in the relaying one.
feed_outbox = Table(
    "feed_outbox",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("topic", String(40), nullable=False),
    Column("payload", JSONDocument, nullable=False),
    Column("create_time", UTCDateTime(), nullable=False),
)
