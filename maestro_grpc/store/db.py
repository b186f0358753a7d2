"""The store's connection: one async engine for PostgreSQL (asyncpg) or SQLite (aiosqlite)."""

from __future__ import annotations

import asyncio
import contextvars
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from maestro_grpc import audit
from maestro_grpc.errors import Unavailable
from maestro_grpc.store import audit_log


def normalize_url(url: str) -> str:
    """Accept plain `postgresql://` and `sqlite://` URLs and pick the async drivers."""
    parsed = make_url(url)
    driver = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}.get(
        parsed.drivername
    )
    if driver is None and parsed.drivername == "sqlite":
        driver = "sqlite+aiosqlite"
    if driver:
        parsed = parsed.set(drivername=driver)
    return parsed.render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """The same database for synchronous tools (psycopg, sqlite3)."""
    parsed = make_url(normalize_url(url))
    driver = "postgresql+psycopg" if parsed.get_backend_name() == "postgresql" else "sqlite"
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


# Whether this context is inside one of the store's SQLite writes (see `Database._one_writer`).
_writing: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "maestro_sqlite_writing", default=False
)


@dataclass(frozen=True)
class PoolFigures:
    """A connection pool's state: `name` is write or read (PostgreSQL has both)."""

    name: str
    in_use: int
    idle: int
    max_connections: int


class Database:
    """The engine plus the few things that differ between the two stores.

    `read()` and `write()` hand out a connection inside a transaction. On
    SQLite a write transaction starts with BEGIN IMMEDIATE, so two writers
    queue on the busy timeout instead of failing when a read lock would have
    to be upgraded. SQLite has one writer at a time, and a waiting writer's
    busy handler polls the lock with sleeps of 1, 2, 5, 10... ms, so the
    file sat locked by nobody between writes. This process's writers queue
    on a lock of their own first, each woken the moment the last commits;
    the busy timeout is left for other processes on the same file. Seeding
    200 demo projects through the RPCs, 8 calls at once, server in process:
    21.5-22.0 s before, 19.1-19.7 s after (PostgreSQL 11.8 s).
    """

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            # No pre-ping on every checkout: `_ping_when_idle` pings only a
            # connection that sat idle (see there).
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)
            kwargs["connect_args"] = {"timeout": 5, "command_timeout": 60}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine)
            self.read_engine = self.engine
        else:
            # Reads get their own pool of autocommit connections: no BEGIN or
            # COMMIT round trips, and nothing to reset when one goes back.
            self.read_engine = create_async_engine(
                self.url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None, **kwargs
            )
            _ping_when_idle(self.engine)
            _ping_when_idle(self.read_engine)
        # SQLite's writers in this process, one at a time (per event loop: a
        # lock belongs to the loop it first waits on).
        self._writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reading.

        On PostgreSQL without a transaction: each statement sees what was
        committed when it started, which is what READ COMMITTED (the default)
        gives inside a transaction too, and skipping BEGIN/COMMIT saves two
        round trips per read. On SQLite a deferred transaction (no network, and
        a consistent snapshot in WAL mode).
        """
        async with self._guard(), self.read_engine.connect() as conn:
            if self.is_postgres:
                yield conn
            else:
                async with conn.begin():
                    yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a write transaction; a call's audit event commits with it.

        Under an audit scope (`maestro_grpc/audit.py`: a call the auth
        interceptor let through), the call's audit event is appended in the
        same transaction, after the caller's statements: a write and its
        record commit together or not at all.
        """
        async with self._one_writer(), self._guard(), self.engine.connect() as conn:
            if self.is_sqlite:
                await conn.execution_options(maestro_begin="BEGIN IMMEDIATE")
            async with conn.begin():
                yield conn
                scope = audit.current()
                if scope is not None and scope.automatic:
                    await audit_log.record(conn, scope)

    @asynccontextmanager
    async def _one_writer(self) -> AsyncIterator[None]:
        """On SQLite, this process's writers in turn (see the class); nothing on PostgreSQL."""
        if not self.is_sqlite or _writing.get():
            # A write begun inside another (or in a task it started) waits on
            # SQLite's busy timeout as before, rather than on a lock it holds.
            yield
            return
        loop = asyncio.get_running_loop()
        lock = self._writers.get(loop)
        if lock is None:
            lock = self._writers[loop] = asyncio.Lock()
        async with lock:
            token = _writing.set(True)
            try:
                yield
            finally:
                _writing.reset(token)

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        """Turn a lost or refused connection into UNAVAILABLE, not INTERNAL."""
        try:
            yield
        except (TimeoutError, exc.DBAPIError, OSError) as error:
            if is_unavailable(error):
                raise Unavailable(
                    "the store is unreachable; retry later", retry_delay_seconds=1.0
                ) from error
            raise

    async def ping(self, within: float = 3.0) -> bool:
        """Whether the store answers a trivial query within `within` seconds."""
        try:
            async with asyncio.timeout(within), self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def pool_figures(self) -> list[PoolFigures]:
        """Each pool's connections now: in use, idle, and the most it opens."""
        engines = {"write": self.engine, "read": self.read_engine}
        if self.read_engine is self.engine:
            del engines["read"]
        figures = []
        for name, engine in engines.items():
            pool: Any = engine.sync_engine.pool
            size = pool.size() if hasattr(pool, "size") else 1
            overflow = max(0, int(getattr(pool, "_max_overflow", 0)))
            in_use = pool.checkedout() if hasattr(pool, "checkedout") else 0
            idle = pool.checkedin() if hasattr(pool, "checkedin") else 0
            figures.append(PoolFigures(name, in_use, idle, size + overflow))
        return figures

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


# A pooled connection idle this long is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "maestro_idle_since"


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection on checkout only when it sat idle a second or more.

    SQLAlchemy's `pool_pre_ping` pings on every checkout: one round trip on
    a read connection, three on a write one (BEGIN, the ping, ROLLBACK), which
    cost a busy replica more than many of its statements. A connection in
    steady use has just proved itself; one that sat idle may have been cut
    (a database restart, an idle timeout on the way), so it is pinged, and a
    failed ping marks every connection pooled before it stale and opens a
    new one, as the pre-ping does: after a restart the next call still gets
    a live connection. A connection broken in the last second (a restart
    while busy) fails its one statement with UNAVAILABLE, which callers retry.
    """

    def checkin(_dbapi: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def checkout(dbapi: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)  # None: new since its last checkin
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dbapi.ping()
        except Exception as error:
            raise exc.InvalidatePoolError(f"idle connection failed its ping: {error}") from error

    event.listen(engine.sync_engine, "checkin", checkin)
    event.listen(engine.sync_engine, "checkout", checkout)


# SQLSTATE classes that mean "the server cannot serve now", not "your query
# is wrong": 08 connection exception, 57 operator intervention (57P01 admin
# shutdown, 57P02 crash shutdown, 57P03 cannot connect now: "the database
# system is shutting down"), 53 insufficient resources (too many clients).
UNAVAILABLE_SQLSTATE_CLASSES = ("08", "57", "53")


def is_unavailable(error: BaseException) -> bool:
    """Whether an exception means the database cannot be reached (a retryable state)."""
    if isinstance(error, OSError | asyncio.TimeoutError | ConnectionError):
        return True
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        if isinstance(error, exc.InterfaceError):
            return True
        original = error.orig
        sqlstate = str(getattr(original, "sqlstate", None) or getattr(original, "pgcode", ""))
        if sqlstate.startswith(UNAVAILABLE_SQLSTATE_CLASSES):
            return True
        name = type(original).__name__ if original is not None else ""
        message = str(original).lower()
        return (
            isinstance(original, OSError | ConnectionError)
            or "connection" in name.lower()
            or "cannotconnectnow" in name.lower()
            or "database is locked" in message
            or "connection refused" in message
        )
    return False


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (see Database.write), and turn on what
        # SQLite leaves off by default.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get("maestro_begin", "BEGIN"))
