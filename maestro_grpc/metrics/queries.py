"""Read-side domain of the Metrics service: summaries, velocity, DORA, metric names."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.errors import NotFound
from maestro_grpc.store.db import Database
from maestro_grpc.store.schema import projects


class Queries:
    def __init__(self, db: Database, *, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock

    async def require_project(self, project_id: uuid.UUID) -> None:
        async with self.db.read() as conn:
            found = await conn.scalar(select(projects.c.id).where(projects.c.id == project_id))
        if found is None:
            raise NotFound(f"project {project_id} does not exist", reason="PROJECT_NOT_FOUND")
