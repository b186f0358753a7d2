"""The metrics tables: series and their points, process events, producers, rollups."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from maestro_grpc.store.schema import metadata
from maestro_grpc.store.types import JSONDocument, UTCDateTime

# ---- metrics (issue #3) -------------------------------------------------------------
#
# A metric series is one (project, name, label set); its points live in
# metric_points, which holds only (series, time, value, source) so that a
# point is a narrow row. On PostgreSQL metric_points is partitioned by range
# of time: a DEFAULT partition (created by the migration) catches everything,
# and monthly partitions `metric_points_pYYYY_MM` are created on demand by the
# write path (and moved out of DEFAULT by the metrics worker); those names
# are in DIALECT_ONLY_PREFIXES. There is no foreign key from metric_points to
# metric_series: the write path resolves series itself and checking a key
# per point would cost more than the row.


metric_series = Table(
    "metric_series",
    metadata,
    Column(
        "id",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("project_id", Uuid(), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    # Canonical JSON of the labels (sorted keys, no spaces); "{}" for none.
    Column("labels", Text(), nullable=False),
    Column("create_time", UTCDateTime(), nullable=False),
    UniqueConstraint(
        "project_id", "name", "labels", name="uq_metric_series_project_id_name_labels"
    ),
)

metric_points = Table(
    "metric_points",
    metadata,
    Column("series_id", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    Column("time", UTCDateTime(), nullable=False),
    Column("value", Float(), nullable=False),
    # MetricSource number (1 GIT, 2 CI, 3 MLFLOW, 4 AGENT, 5 MANUAL).
    Column("source", SmallInteger(), nullable=False, server_default="5"),
    PrimaryKeyConstraint("series_id", "time", name="pk_metric_points"),
    postgresql_partition_by="RANGE (time)",
    sqlite_with_rowid=False,
)

# Typed process events, unique by their natural key within a project. A later
# state (higher state_rank, or the same rank with a different payload)
# replaces the stored one; an earlier state is ignored.
process_events = Table(
    "process_events",
    metadata,
    Column(
        "id",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("project_id", Uuid(), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    # commit, pull_request, pipeline_run, test_report, deployment, incident,
    # experiment_run.
    Column("type", String(20), nullable=False),
    Column("natural_key", String(600), nullable=False),
    # A commit's sha, a pull request's merge commit: what deployments refer to.
    Column("ref", String(100), nullable=False, server_default=""),
    Column("status", String(20), nullable=False, server_default=""),
    Column("state_rank", SmallInteger(), nullable=False, server_default="0"),
    # The event's main time (author time, open time, start time, ...).
    Column("time", UTCDateTime(), nullable=False),
    # When it ended (merge or close, pipeline end, resolution, ...), if it did.
    Column("end_time", UTCDateTime()),
    Column("payload", JSONDocument, nullable=False),
    # sha256 (hex, first 32) of the canonical payload: same state, same digest.
    Column("digest", String(32), nullable=False),
    Column("create_time", UTCDateTime(), nullable=False),
    Column("update_time", UTCDateTime(), nullable=False),
    UniqueConstraint(
        "project_id", "type", "natural_key", name="uq_process_events_project_id_type_natural_key"
    ),
    Index("ix_process_events_project_id_time", "project_id", "time"),
    Index("ix_process_events_project_id_type_time", "project_id", "type", "time"),
    Index("ix_process_events_project_id_ref", "project_id", "ref"),
)

# Exactly-once ingest: per producer, the last sequence stored and the epoch of
# the stream that may write (a newer open bumps it and ends older streams).
metric_producers = Table(
    "metric_producers",
    metadata,
    Column("producer_id", String(200), primary_key=True),
    Column("project_id", Uuid(), ForeignKey("projects.id", ondelete="SET NULL")),
    Column("committed_sequence", BigInteger(), nullable=False, server_default="0"),
    Column("epoch", BigInteger(), nullable=False, server_default="0"),
    Column("create_time", UTCDateTime(), nullable=False),
    Column("update_time", UTCDateTime(), nullable=False),
)

# Hourly and daily aggregates of each series, kept by the metrics worker.
# m2 is the sum of squared deviations from the mean (mergeable, Chan et al.);
# sketch is a serialized relative-error quantile sketch (metrics/sketch.py).
metric_rollups = Table(
    "metric_rollups",
    metadata,
    Column("series_id", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    # "hour" or "day".
    Column("granularity", String(8), nullable=False),
    Column("bucket_start", UTCDateTime(), nullable=False),
    Column("count", BigInteger(), nullable=False),
    Column("sum", Float(), nullable=False),
    Column("m2", Float(), nullable=False),
    Column("min", Float(), nullable=False),
    Column("max", Float(), nullable=False),
    Column("first_time", UTCDateTime(), nullable=False),
    Column("last_time", UTCDateTime(), nullable=False),
    Column("last_value", Float(), nullable=False),
    Column("sketch", LargeBinary(), nullable=False),
    Column("update_time", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("series_id", "granularity", "bucket_start", name="pk_metric_rollups"),
)

# The first answer of a RecordMetrics call made with a request_id (the key
# itself is claimed in idempotency_keys), so that a repeat returns it.
metric_write_results = Table(
    "metric_write_results",
    metadata,
    Column("request_id", String(100), primary_key=True),
    Column("response", LargeBinary(), nullable=False),
    Column("create_time", UTCDateTime(), nullable=False),
    Index("ix_metric_write_results_create_time", "create_time"),
)

# The live feed (issue #18): each write's stored rows, encoded, per project
# under a sequence that counts the project's writes from 1 without gaps. A
# write appends its entry in its own transaction, so an entry exists exactly
# when its write committed; watchers read what the event bus did not bring
# them from here. Entries are kept for a while (the watch retention), then
# trimmed. The payload is left uncompressed on PostgreSQL (STORAGE EXTERNAL):
# it is short-lived and compressing it would cost the write path.
metric_feed = Table(
    "metric_feed",
    metadata,
    Column("project_id", Uuid(), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("sequence", BigInteger(), nullable=False),
    Column("payload", LargeBinary(), nullable=False),
    Column("create_time", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("project_id", "sequence", name="pk_metric_feed"),
    Index("ix_metric_feed_create_time", "create_time"),
)

# Per project, the sequence of its latest feed entry. A write takes its
# sequences by bumping this row last thing in its transaction: the row lock
# orders the project's writers, so sequences follow commit order and a
# rolled-back write leaves no gap.
metric_feed_heads = Table(
    "metric_feed_heads",
    metadata,
    Column(
        "project_id",
        Uuid(),
        ForeignKey("projects.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("sequence", BigInteger(), nullable=False),
)
