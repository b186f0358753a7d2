"""Alembic environment: runs on the connection that maestro_grpc.store.migrate hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from maestro_grpc.catalog import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached by a bare `alembic` call
    raise SystemExit("run migrations with `maestro migrate`, not the alembic command")

if connection.dialect.name == "postgresql":
    # Several replicas may start at once: one migrates, the others wait.
    connection.execute(text("SELECT pg_advisory_xact_lock(7261150001)"))

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
