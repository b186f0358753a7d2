"""The migrations build exactly the schema the code declares, on both stores, and go back down."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from maestro_grpc.catalog import metadata
from maestro_grpc.store.db import Database
from maestro_grpc.store.migrate import current_revision, downgrade, head_revision, upgrade
from maestro_grpc.store.schema import DIALECT_ONLY, DIALECT_ONLY_PREFIXES


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if name in DIALECT_ONLY or name == "alembic_version":
        return False
    # Monthly partitions of metric_points, made by writes of earlier tests.
    if name is not None and name.startswith(DIALECT_ONLY_PREFIXES):
        return False
    # FTS5's shadow tables (artifact_search_data, ...) belong to SQLite.
    return not (type_ == "table" and name is not None and name.startswith("artifact_search"))


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"include_object": _include, "compare_type": True, "target_metadata": metadata},
    )
    return list(compare_metadata(context, metadata))


async def test_schema_matches_the_code(store_url: str) -> None:
    db = Database(store_url)
    try:
        assert await current_revision(db) == head_revision()
        async with db.engine.connect() as conn:
            differences = await conn.run_sync(_differences)
        assert differences == []
    finally:
        await db.dispose()


async def test_downgrade_to_base_and_up_again(store_url: str) -> None:
    db = Database(store_url)
    try:
        await downgrade(db, "base")
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert tables <= {"alembic_version"}
        await upgrade(db)
        assert await current_revision(db) == head_revision()
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
    finally:
        await db.dispose()
