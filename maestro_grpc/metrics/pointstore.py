"""Bulk writes of metric points: where PostgreSQL and SQLite differ, two honest implementations.

PostgreSQL: the batch is encoded with numpy straight into COPY's binary
format (no per-point Python object), copied into a session-local staging
table, then moved with one INSERT ... SELECT ... ON CONFLICT that applies the
identity rule (same series and time: the value is replaced). metric_points
is partitioned by month; `ensure_partitions` creates the months a batch
needs before its transaction starts.

SQLite: one executemany of an upsert, inside the caller's transaction.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.clock import from_micros
from maestro_grpc.store.db import Database

log = logging.getLogger("maestro.metrics.store")

STAGING = "metric_points_staging"
# Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
PG_EPOCH_OFFSET_US = 946_684_800_000_000
PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
PGCOPY_TRAILER = b"\xff\xff"
_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("series_len", ">i4"),
        ("series_id", ">i8"),
        ("time_len", ">i4"),
        ("time", ">i8"),
        ("value_len", ">i4"),
        ("value", ">f8"),
        ("source_len", ">i4"),
        ("source", ">i2"),
    ]
)
# Partition maintenance of all replicas queues on this advisory lock.
PARTITION_LOCK = 7261150002


def dedup_sorted(
    series_ids: npt.NDArray[np.int64],
    times: npt.NDArray[np.int64],
) -> npt.NDArray[np.intp]:
    """Indexes that keep the last point of each (series, time), sorted by (series, time).

    A later point of the same identity in one batch replaces an earlier one,
    as a later batch would; sorting also makes index inserts local.
    """
    n = series_ids.shape[0]
    if n == 0:
        return np.zeros(0, np.intp)
    # lexsort is stable: equal keys keep their order, so the last of a run
    # is the last sent.
    order = np.lexsort((times, series_ids))
    s = series_ids[order]
    t = times[order]
    last = np.ones(n, dtype=bool)
    last[:-1] = (s[1:] != s[:-1]) | (t[1:] != t[:-1])
    return order[last]


def copy_binary(
    series_ids: npt.NDArray[np.int64],
    times_us: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    sources: npt.NDArray[np.int16],
) -> bytes:
    """The rows in PostgreSQL's binary COPY format, built column-wise."""
    rows = np.empty(series_ids.shape[0], dtype=_ROW)
    rows["fields"] = 4
    rows["series_len"] = 8
    rows["series_id"] = series_ids
    rows["time_len"] = 8
    rows["time"] = times_us - PG_EPOCH_OFFSET_US
    rows["value_len"] = 8
    rows["value"] = values
    rows["source_len"] = 2
    rows["source"] = sources
    return PGCOPY_HEADER + rows.tobytes() + PGCOPY_TRAILER


async def insert_points(
    conn: AsyncConnection,
    series_ids: npt.NDArray[np.int64],
    times_us: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    sources: npt.NDArray[np.int16],
) -> int:
    """Upsert points (unique by series and time) in the caller's transaction.

    The arrays must be deduplicated and sorted (`dedup_sorted`). Returns
    how many rows were inserted or changed (a resent identical point
    changes nothing).
    """
    if series_ids.shape[0] == 0:
        return 0
    if conn.dialect.name == "postgresql":
        return await _insert_points_pg(conn, series_ids, times_us, values, sources)
    return await _insert_points_sqlite(conn, series_ids, times_us, values, sources)


class PointsExist(Exception):
    """Some of the rows given to insert_new_points are already stored."""


async def insert_new_points(
    conn: AsyncConnection,
    series_ids: npt.NDArray[np.int64],
    times_us: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    sources: npt.NDArray[np.int16],
) -> None:
    """Insert points that should all be new; PointsExist if any is not.

    The fast path of a write: on PostgreSQL one binary COPY straight into
    metric_points (no staging, no conflict handling). A failure leaves the
    caller's transaction unusable: roll it back and use insert_points.
    """
    if series_ids.shape[0] == 0:
        return
    if conn.dialect.name == "postgresql":
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        if not driver.is_in_transaction():
            await conn.execute(text("SELECT 1"))
        import asyncpg

        try:
            await driver.copy_to_table(
                "metric_points",
                source=memoryview(copy_binary(series_ids, times_us, values, sources)),
                columns=["series_id", "time", "value", "source"],
                format="binary",
            )
        except asyncpg.UniqueViolationError:
            raise PointsExist() from None
        return
    rows = list(
        zip(
            series_ids.tolist(),
            sqlite_times(times_us),
            values.tolist(),
            sources.tolist(),
            strict=True,
        )
    )
    try:
        await conn.exec_driver_sql(
            "INSERT INTO metric_points (series_id, time, value, source) VALUES (?, ?, ?, ?)",
            rows,
        )
    except IntegrityError:
        raise PointsExist() from None


async def _insert_points_pg(
    conn: AsyncConnection,
    series_ids: npt.NDArray[np.int64],
    times_us: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    sources: npt.NDArray[np.int16],
) -> int:
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    if not driver.is_in_transaction():
        # The COPY must run inside the caller's transaction, which the
        # SQLAlchemy adapter opens lazily on its first statement.
        await conn.execute(text("SELECT 1"))
    if not raw.info.get(STAGING):
        await conn.execute(
            text(
                f"CREATE TEMP TABLE IF NOT EXISTS {STAGING} (series_id int8, time timestamptz, "
                "value float8, source int2) ON COMMIT DELETE ROWS"
            )
        )
        raw.info[STAGING] = True
    payload = copy_binary(series_ids, times_us, values, sources)
    # A memoryview: asyncpg would take bytes for a file name.
    await driver.copy_to_table(
        STAGING,
        source=memoryview(payload),
        columns=["series_id", "time", "value", "source"],
        format="binary",
    )
    result = await conn.execute(
        text(
            "INSERT INTO metric_points (series_id, time, value, source) "
            f"SELECT series_id, time, value, source FROM {STAGING} "
            "ON CONFLICT (series_id, time) DO UPDATE "
            "SET value = EXCLUDED.value, source = EXCLUDED.source "
            "WHERE metric_points.value IS DISTINCT FROM EXCLUDED.value "
            "OR metric_points.source IS DISTINCT FROM EXCLUDED.source"
        )
    )
    # ON COMMIT DELETE ROWS empties the staging table; a batch that is
    # rolled back leaves nothing there either.
    return int(result.rowcount)


def sqlite_times(times_us: npt.NDArray[np.int64]) -> list[str]:
    """Times as SQLAlchemy stores DateTime on SQLite ("YYYY-MM-DD HH:MM:SS.ffffff", UTC)."""
    text_times = np.datetime_as_string(times_us.astype("datetime64[us]"), unit="us")
    return [t.replace("T", " ") for t in text_times.tolist()]


async def _insert_points_sqlite(
    conn: AsyncConnection,
    series_ids: npt.NDArray[np.int64],
    times_us: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    sources: npt.NDArray[np.int16],
) -> int:
    rows = list(
        zip(
            series_ids.tolist(),
            sqlite_times(times_us),
            values.tolist(),
            sources.tolist(),
            strict=True,
        )
    )
    result = await conn.exec_driver_sql(
        "INSERT INTO metric_points (series_id, time, value, source) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (series_id, time) DO UPDATE SET value = excluded.value, "
        "source = excluded.source "
        "WHERE metric_points.value IS NOT excluded.value "
        "OR metric_points.source IS NOT excluded.source",
        rows,
    )
    return int(result.rowcount)


# ---- partitions (PostgreSQL) ---------------------------------------------------------


def months_of(times_us: npt.NDArray[np.int64]) -> list[datetime]:
    """The first instants (UTC) of the distinct months the times fall in."""
    if times_us.shape[0] == 0:
        return []
    months = np.unique(times_us.astype("datetime64[us]").astype("datetime64[M]"))
    return [datetime(m.year, m.month, 1, tzinfo=UTC) for m in months.tolist()]


def _next_month(month: datetime) -> datetime:
    return (
        month.replace(year=month.year + 1, month=1)
        if month.month == 12
        else month.replace(month=month.month + 1)
    )


# New monthly partitions one batch may create before its transaction.
MAX_NEW_PER_BATCH = 12
# Months before this get no partition of their own (they stay in DEFAULT).
OLDEST_PARTITION = datetime(2000, 1, 1, tzinfo=UTC)


def partition_worthy(month: datetime) -> bool:
    return month >= OLDEST_PARTITION


def partition_name(month: datetime) -> str:
    return f"metric_points_p{month.year:04d}_{month.month:02d}"


class Partitions:
    """Creates the monthly partitions of metric_points on demand (PostgreSQL only).

    Remembers what exists. A month whose rows already sit in the DEFAULT
    partition cannot get its own partition until they are moved out (the
    metrics worker does that); meanwhile its points keep going to DEFAULT.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.known: set[str] | None = None
        self.deferred: set[str] = set()

    async def _load(self) -> set[str]:
        if self.known is None:
            async with self.db.read() as conn:
                rows = await conn.execute(
                    text(
                        "SELECT c.relname FROM pg_inherits i "
                        "JOIN pg_class c ON c.oid = i.inhrelid "
                        "WHERE i.inhparent = 'metric_points'::regclass"
                    )
                )
                self.known = {r[0] for r in rows}
        return self.known

    async def ensure(self, times_us: npt.NDArray[np.int64]) -> None:
        """Create the months' partitions (at most MAX_NEW_PER_BATCH; DEFAULT takes the rest)."""
        if not self.db.is_postgres or times_us.shape[0] == 0:
            return
        known = await self._load()
        created = 0
        for month in months_of(times_us):
            name = partition_name(month)
            if name in known or name in self.deferred or not partition_worthy(month):
                continue
            if created >= MAX_NEW_PER_BATCH:
                # A backfill over many months: the worker moves the rest out
                # of DEFAULT later, so a batch never stalls on DDL.
                break
            created += 1
            if await create_partition(self.db, month):
                known.add(name)
            else:
                self.deferred.add(name)

    def forget(self) -> None:
        """Re-read the partitions next time (after the worker moved rows)."""
        self.known = None
        self.deferred.clear()


async def create_partition(db: Database, month: datetime, *, move_default: bool = False) -> bool:
    """Create the month's partition; False when DEFAULT holds rows of it (and not moving)."""
    name = partition_name(month)
    start, end = month, _next_month(month)
    try:
        async with db.write() as conn:
            await conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            await conn.execute(text(f"SELECT pg_advisory_xact_lock({PARTITION_LOCK})"))
            exists = await conn.scalar(text("SELECT to_regclass(:n)"), {"n": name})
            if exists is not None:
                return True
            in_default = await conn.scalar(
                text(
                    "SELECT EXISTS (SELECT 1 FROM metric_points_default "
                    "WHERE time >= :s AND time < :e)"
                ),
                {"s": start, "e": end},
            )
            if in_default and not move_default:
                return False
            if in_default:
                # Move the month's rows out of DEFAULT and back in through the
                # new partition, in one transaction.
                await conn.execute(
                    text(
                        "CREATE TEMP TABLE metric_points_moving (LIKE metric_points) ON COMMIT DROP"
                    )
                )
                await conn.execute(
                    text(
                        "WITH moved AS (DELETE FROM metric_points_default "
                        "WHERE time >= :s AND time < :e "
                        "RETURNING *) INSERT INTO metric_points_moving SELECT * FROM moved"
                    ),
                    {"s": start, "e": end},
                )
            await conn.execute(
                text(
                    f"CREATE TABLE {name} PARTITION OF metric_points "
                    f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
                )
            )
            if in_default:
                await conn.execute(
                    text("INSERT INTO metric_points SELECT * FROM metric_points_moving")
                )
            log.info("created partition %s", name)
            return True
    except DBAPIError as error:
        # Another writer holding the parent too long: the rows go to DEFAULT.
        log.warning("could not create partition %s: %s", name, error)
        return False


async def default_months(db: Database) -> list[datetime]:
    """Months that have rows in the DEFAULT partition (for the worker to move out)."""
    if not db.is_postgres:
        return []
    async with db.read() as conn:
        rows = await conn.execute(
            text(
                "SELECT DISTINCT date_trunc('month', time AT TIME ZONE 'UTC') AS m "
                "FROM metric_points_default ORDER BY m"
            )
        )
        return [r[0].replace(tzinfo=UTC) for r in rows]


# ---- reading points back as arrays -------------------------------------------------


async def fetch_points(
    conn: AsyncConnection, project_id: uuid.UUID, start_us: int, end_us: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The project's points in [start, end) as (series_id, time us, value), by series and time."""
    start, end = from_micros(start_us), from_micros(end_us)
    if conn.dialect.name == "postgresql":
        rows = (
            await conn.execute(
                text(
                    "SELECT p.series_id, (extract(epoch FROM p.time) * 1000000)::int8 AS t, "
                    "p.value FROM metric_points p JOIN metric_series s ON s.id = p.series_id "
                    "WHERE s.project_id = :project AND p.time >= :start AND p.time < :end "
                    "ORDER BY p.series_id, p.time"
                ),
                {"project": project_id, "start": start, "end": end},
            )
        ).all()
        if not rows:
            return _no_points()
        ids, times, values = zip(*rows, strict=True)
        return (
            np.array(ids, dtype=np.int64),
            np.array(times, dtype=np.int64),
            np.array(values, dtype=np.float64),
        )
    texts = sqlite_times(np.array([start_us, end_us], dtype=np.int64))
    rows = (
        await conn.exec_driver_sql(
            "SELECT p.series_id, p.time, p.value FROM metric_points p "
            "JOIN metric_series s ON s.id = p.series_id "
            "WHERE s.project_id = ? AND p.time >= ? AND p.time < ? "
            "ORDER BY p.series_id, p.time",
            (project_id.hex, texts[0], texts[1]),
        )
    ).all()
    if not rows:
        return _no_points()
    ids, time_texts, values = zip(*rows, strict=True)
    return (
        np.array(ids, dtype=np.int64),
        np.array(time_texts, dtype="datetime64[us]").astype(np.int64),
        np.array(values, dtype=np.float64),
    )


def _no_points() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
