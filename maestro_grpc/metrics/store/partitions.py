"""The monthly partitions of metric_points (PostgreSQL; SQLite has one table).

`Partitions.ensure` creates the months a batch needs before its
transaction starts; a month whose rows already sit in the DEFAULT partition
waits there until the rollup worker moves them out (`create_partition` with
`move_default`). Partition maintenance of all replicas queues on one
advisory lock.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from maestro_grpc.store.db import Database

log = logging.getLogger("maestro.metrics.store")

# Partition maintenance of all replicas queues on this advisory lock.
PARTITION_LOCK = 7261150002


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


async def default_rows(db: Database) -> int:
    """Points in the DEFAULT partition: written for a month that had no partition yet."""
    if not db.is_postgres:
        return 0
    async with db.read() as conn:
        return int(
            (await conn.execute(text("SELECT count(*) FROM metric_points_default"))).scalar_one()
        )


async def move_out_of_default(db: Database) -> None:
    """Give months that landed in the DEFAULT partition their own partition."""
    for month in await default_months(db):
        if partition_worthy(month):
            await create_partition(db, month, move_default=True)


async def drop_partitions_before(db: Database, horizon: datetime) -> int:
    """Drop whole monthly partitions that end at or before `horizon` (no row by row delete)."""
    if not db.is_postgres:
        return 0
    async with db.read() as conn:
        rows = await conn.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'metric_points'::regclass AND c.relname LIKE :p"
            ),
            {"p": "metric_points_p%"},
        )
        names = sorted(r.relname for r in rows)
    dropped = 0
    for name in names:
        month = datetime(int(name[-7:-3]), int(name[-2:]), 1, tzinfo=horizon.tzinfo)
        if _next_month(month) <= horizon:
            async with db.write() as conn:
                await conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
            dropped += 1
    return dropped
