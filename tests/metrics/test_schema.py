"""The metrics tables: migration and schema.py agree; PostgreSQL partitions points by month."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro_grpc.catalog import metadata
from maestro_grpc.metrics.store import partitions
from maestro_grpc.server import RunningServer
from maestro_grpc.store.schema import DIALECT_ONLY, DIALECT_ONLY_PREFIXES
from tests.metrics.helpers import Metrics, columns

PARTITIONS = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'metric_points'::regclass"
METRICS_TABLES = {
    "metric_series",
    "metric_points",
    "process_events",
    "metric_producers",
    "metric_rollups",
    "metric_write_results",
}


def _name_of(diff: object) -> str:
    for item in diff if isinstance(diff, tuple) else ():
        name = getattr(item, "name", None)
        if isinstance(name, str):
            return name
    return ""


async def test_migration_matches_schema(
    server: RunningServer, metrics: Metrics, project: str
) -> None:
    # A write creates a monthly partition first, so the comparison sees one.
    await metrics.RecordMetrics(
        ms.RecordMetricsRequest(batch=mp.MetricBatch(columns=[columns(project, [1.0])]))
    )
    async with server.db.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": True}), metadata
            )
        )
    ours = []
    for item in diff:
        if isinstance(item, list):  # column modifications: (op, schema, table, column, ...)
            if any(change[2] in METRICS_TABLES for change in item):
                ours.append(item)
            continue
        name = _name_of(item)
        if name in DIALECT_ONLY or name.startswith(DIALECT_ONLY_PREFIXES):
            continue
        table = getattr(item[1], "table", None) if isinstance(item, tuple) else None
        owner = getattr(table, "name", name)
        if owner in METRICS_TABLES or name in METRICS_TABLES:
            ours.append(item)
    assert ours == []


async def test_points_land_in_monthly_partitions(
    server: RunningServer, metrics: Metrics, project: str
) -> None:
    march = int(datetime(2026, 3, 31, 23, tzinfo=UTC).timestamp() * 1e6)
    response = await metrics.RecordMetrics(
        ms.RecordMetricsRequest(
            batch=mp.MetricBatch(
                columns=[columns(project, [1.0, 2.0, 3.0], start_us=march, step_us=3_600_000_000)]
            )
        )
    )
    assert response.stored_points == 3
    if not server.db.is_postgres:
        return
    async with server.db.read() as conn:
        rows = await conn.execute(
            text(
                "SELECT tableoid::regclass::text AS part, count(*) AS n FROM metric_points "
                "GROUP BY 1 ORDER BY 1"
            )
        )
        counts = {r.part: r.n for r in rows}
    assert counts == {"metric_points_p2026_03": 1, "metric_points_p2026_04": 2}


async def test_default_partition_rows_are_moved_out(
    server: RunningServer, metrics: Metrics, project: str
) -> None:
    if not server.db.is_postgres:
        assert await partitions.default_months(server.db) == []
        return
    # Rows of a month without a partition (created behind the cache's back)
    # sit in DEFAULT; the worker's move gives them their own partition.
    async with server.db.write() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS metric_points_p2025_01"))
        await conn.execute(
            text(
                "INSERT INTO metric_points_default (series_id, time, value, source) "
                "VALUES (1, '2025-01-15T00:00:00Z', 1.0, 5)"
            )
        )
    months = await partitions.default_months(server.db)
    assert months == [datetime(2025, 1, 1, tzinfo=UTC)]
    assert not await partitions.create_partition(server.db, months[0])
    assert await partitions.create_partition(server.db, months[0], move_default=True)
    assert await partitions.default_months(server.db) == []
    async with server.db.read() as conn:
        moved = await conn.scalar(text("SELECT count(*) FROM metric_points_p2025_01"))
    assert moved == 1


async def test_a_backfill_over_many_months_stalls_on_no_ddl(
    server: RunningServer, metrics: Metrics, project: str
) -> None:
    from maestro_grpc.metrics.domain.rollup import RollupWorker
    from maestro_grpc.metrics.store.rollups import RollupStore

    first = int(datetime(2024, 1, 15, tzinfo=UTC).timestamp() * 1e6)
    partitions_before = 0
    if server.db.is_postgres:
        async with server.db.read() as conn:
            partitions_before = await conn.scalar(text(PARTITIONS))
    month_us = 31 * 24 * 3_600_000_000
    response = await metrics.RecordMetrics(
        ms.RecordMetricsRequest(
            batch=mp.MetricBatch(
                columns=[
                    columns(
                        project, [float(i) for i in range(20)], start_us=first, step_us=month_us
                    )
                ]
            )
        )
    )
    assert response.stored_points == 20
    if not server.db.is_postgres:
        return
    async with server.db.read() as conn:
        in_default = await conn.scalar(text("SELECT count(*) FROM metric_points_default"))
        partitions = await conn.scalar(text(PARTITIONS))
    # At most 12 months got partitions at once; the rest wait in DEFAULT.
    assert in_default > 0
    assert partitions - partitions_before <= 12
    await RollupWorker(RollupStore(server.db), owner="t").tidy_partitions()
    async with server.db.read() as conn:
        in_default = await conn.scalar(text("SELECT count(*) FROM metric_points_default"))
        total = await conn.scalar(text("SELECT count(*) FROM metric_points"))
    assert (in_default, total) == (0, 20)
