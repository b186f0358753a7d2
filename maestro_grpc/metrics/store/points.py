"""Bulk writes and reads of metric points: where PostgreSQL and SQLite differ, two honest ways.

PostgreSQL: the batch is encoded with numpy straight into COPY's binary
format (no per-point Python object). A group of new points is copied
straight into metric_points; points that may already exist are copied into
a session-local staging table, then moved with one INSERT ... SELECT ... ON
CONFLICT that applies the identity rule (same series and time: the value is
replaced). Monthly partitions are `partitions.py`'s.

SQLite: one executemany of an insert (or upsert), inside the caller's
transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.clock import from_micros
from maestro_grpc.metrics.model import PointRows

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
_COLUMNS = ["series_id", "time", "value", "source"]


def copy_binary(rows: PointRows) -> bytes:
    """The rows in PostgreSQL's binary COPY format, built column-wise."""
    return copy_buffer(rows).tobytes()


def copy_buffer(rows: PointRows) -> memoryview:
    """`copy_binary(rows)` in one buffer, encoded in place: header, rows and trailer.

    Joining the encoded rows to the header and trailer copied them twice
    more, and a group commit of 50,000 points holds its buffer for the
    whole COPY (the transient memory of a server with many streams).
    """
    n = rows.series_ids.shape[0]
    start, end = len(PGCOPY_HEADER), len(PGCOPY_HEADER) + n * _ROW.itemsize
    buffer = np.empty(end + len(PGCOPY_TRAILER), dtype=np.uint8)
    buffer[:start] = np.frombuffer(PGCOPY_HEADER, dtype=np.uint8)
    buffer[end:] = np.frombuffer(PGCOPY_TRAILER, dtype=np.uint8)
    out = buffer[start:end].view(_ROW)
    out["fields"] = 4
    out["series_len"] = 8
    out["series_id"] = rows.series_ids
    out["time_len"] = 8
    out["time"] = rows.times - PG_EPOCH_OFFSET_US
    out["value_len"] = 8
    out["value"] = rows.values
    out["source_len"] = 2
    out["source"] = rows.sources
    return buffer.data


# What asyncpg copies into one CopyData message at a time (see _copy_in).
COPY_CHUNK_BYTES = 256 * 1024


async def _copy_in(driver: Any, table: str, rows: PointRows) -> None:
    """COPY `rows` into `table` in binary, a chunk of the one buffer at a time.

    Handed a whole buffer, asyncpg copies it whole into one message and the
    transport queues what the socket does not take at once: two more copies
    of the group. Given its slices, it copies one slice at a time and waits
    for the socket between them (flow control).
    """
    data = copy_buffer(rows)

    async def chunks() -> AsyncIterator[memoryview]:
        for offset in range(0, len(data), COPY_CHUNK_BYTES):
            yield data[offset : offset + COPY_CHUNK_BYTES]

    await driver.copy_to_table(table, source=chunks(), columns=_COLUMNS, format="binary")


async def insert_points(conn: AsyncConnection, rows: PointRows) -> int:
    """Upsert points (unique by series and time) in the caller's transaction.

    The rows must be deduplicated and sorted. Returns how many rows were
    inserted or changed (a resent identical point changes nothing).
    """
    if len(rows) == 0:
        return 0
    if conn.dialect.name == "postgresql":
        return await _insert_points_pg(conn, rows)
    result = await conn.exec_driver_sql(
        "INSERT INTO metric_points (series_id, time, value, source) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (series_id, time) DO UPDATE SET value = excluded.value, "
        "source = excluded.source "
        "WHERE metric_points.value IS NOT excluded.value "
        "OR metric_points.source IS NOT excluded.source",
        _sqlite_rows(rows),
    )
    return int(result.rowcount)


class PointsExist(Exception):
    """Some of the rows given to insert_new_points are already stored."""


async def insert_new_points(conn: AsyncConnection, rows: PointRows) -> None:
    """Insert points that should all be new; PointsExist if any is not.

    The fast path of a write: on PostgreSQL one binary COPY straight into
    metric_points (no staging, no conflict handling). A failure leaves the
    caller's transaction unusable: roll it back and use insert_points.
    """
    if len(rows) == 0:
        return
    if conn.dialect.name == "postgresql":
        _, driver = await _driver_in_transaction(conn)
        import asyncpg

        try:
            await _copy_in(driver, "metric_points", rows)
        except asyncpg.UniqueViolationError:
            raise PointsExist() from None
        return
    try:
        await conn.exec_driver_sql(
            "INSERT INTO metric_points (series_id, time, value, source) VALUES (?, ?, ?, ?)",
            _sqlite_rows(rows),
        )
    except IntegrityError:
        raise PointsExist() from None


async def _driver_in_transaction(conn: AsyncConnection) -> tuple[Any, Any]:
    """The pooled and the asyncpg connection under `conn`, in the caller's transaction.

    A COPY must run inside that transaction, which the SQLAlchemy adapter
    opens lazily on its first statement.
    """
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    if not driver.is_in_transaction():
        await conn.execute(text("SELECT 1"))
    return raw, driver


async def _insert_points_pg(conn: AsyncConnection, rows: PointRows) -> int:
    raw, driver = await _driver_in_transaction(conn)
    if not raw.info.get(STAGING):
        await conn.execute(
            text(
                f"CREATE TEMP TABLE IF NOT EXISTS {STAGING} (series_id int8, time timestamptz, "
                "value float8, source int2) ON COMMIT DELETE ROWS"
            )
        )
        raw.info[STAGING] = True
    await _copy_in(driver, STAGING, rows)
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


def _sqlite_rows(rows: PointRows) -> list[tuple[Any, ...]]:
    return list(
        zip(
            rows.series_ids.tolist(),
            sqlite_times(rows.times),
            rows.values.tolist(),
            rows.sources.tolist(),
            strict=True,
        )
    )


# ---- reading points back as arrays -------------------------------------------------


Arrays = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]


async def fetch_points(
    conn: AsyncConnection, project_id: uuid.UUID, start_us: int, end_us: int
) -> Arrays:
    """The project's points in [start, end) as (series_id, time us, value), by series and time."""
    if conn.dialect.name == "postgresql":
        rows = (
            await conn.execute(
                text(
                    "SELECT p.series_id, (extract(epoch FROM p.time) * 1000000)::int8 AS t, "
                    "p.value FROM metric_points p JOIN metric_series s ON s.id = p.series_id "
                    "WHERE s.project_id = :project AND p.time >= :start AND p.time < :end "
                    "ORDER BY p.series_id, p.time"
                ),
                {"project": project_id, "start": from_micros(start_us), "end": from_micros(end_us)},
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


async def fetch_named_points(
    conn: AsyncConnection, project_id: uuid.UUID, name: str, start_us: int, end_us: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """One metric's points in [start, end), every label set together, as (time us, value)
    by time."""
    if conn.dialect.name == "postgresql":
        rows = (
            await conn.execute(
                text(
                    "SELECT (extract(epoch FROM p.time) * 1000000)::int8 AS t, p.value "
                    "FROM metric_points p JOIN metric_series s ON s.id = p.series_id "
                    "WHERE s.project_id = :project AND s.name = :name "
                    "AND p.time >= :start AND p.time < :end ORDER BY p.time"
                ),
                {
                    "project": project_id,
                    "name": name,
                    "start": from_micros(start_us),
                    "end": from_micros(end_us),
                },
            )
        ).all()
        times = np.array([r[0] for r in rows], dtype=np.int64)
    else:
        texts = sqlite_times(np.array([start_us, end_us], dtype=np.int64))
        rows = (
            await conn.exec_driver_sql(
                "SELECT p.time, p.value FROM metric_points p "
                "JOIN metric_series s ON s.id = p.series_id "
                "WHERE s.project_id = ? AND s.name = ? AND p.time >= ? AND p.time < ? "
                "ORDER BY p.time",
                (project_id.hex, name, texts[0], texts[1]),
            )
        ).all()
        times = np.array([r[0] for r in rows], dtype="datetime64[us]").astype(np.int64)
    return times, np.array([r[1] for r in rows], dtype=np.float64)


def _no_points() -> Arrays:
    return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
