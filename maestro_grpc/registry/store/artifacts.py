"""The SQL of artifacts: register, read, update and soft-delete them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from maestro_grpc import audit
from maestro_grpc.errors import AlreadyExists
from maestro_grpc.registry.model import Artifact, ArtifactFields, ArtifactType
from maestro_grpc.registry.store.rows import require_artifact, require_project
from maestro_grpc.registry.store.search import search_text
from maestro_grpc.registry.store.tables import artifacts
from maestro_grpc.store.db import Database
from maestro_grpc.store.idempotency import RequestKey, create_once
from maestro_grpc.store.outbox import REGISTRY, Notes, noted

ORIGIN_FIELD = "artifact.origin_project_id"


def _column_values(changes: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if isinstance(value, ArtifactType):
            value = value.value
        elif key == "tags":
            value = list(value)
        values[key] = value
    return values


class ArtifactStore:
    """Artifacts: each method one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        fields: ArtifactFields,
        now: datetime,
        *,
        request_id: str = "",
        fingerprint: str = "",
        notes: Notes[Artifact] | None = None,  # the feed's, in the same transaction
    ) -> Artifact:
        key = RequestKey("CreateArtifact", request_id, fingerprint)
        try:
            async with self.db.write() as conn:

                async def insert() -> uuid.UUID:
                    if fields.origin_project_id is not None:
                        await require_project(conn, fields.origin_project_id, ORIGIN_FIELD)
                    artifact_id = uuid.uuid4()
                    await conn.execute(
                        artifacts.insert().values(
                            id=artifact_id,
                            name=fields.name,
                            version=fields.version,
                            type=fields.type.value,
                            description=fields.description,
                            tags=list(fields.tags),
                            origin_project_id=fields.origin_project_id,
                            creator=fields.creator,
                            metadata=fields.metadata,
                            content_sha256=fields.content_sha256,
                            size_bytes=fields.size_bytes,
                            storage_uri=fields.storage_uri,
                            usage_count=0,
                            impact_score=0.0,
                            search_text=search_text(
                                fields.name, fields.version, fields.description, fields.tags
                            ),
                            create_time=now,
                            update_time=now,
                        )
                    )
                    audit.touch("artifacts", artifact_id, fields.origin_project_id)
                    return artifact_id

                # A repeat answers with what the first call made, even if it
                # has been deleted since.
                made = await create_once(
                    conn,
                    key,
                    now,
                    insert,
                    lambda artifact_id: require_artifact(conn, artifact_id, include_deleted=True),
                )
                return await noted(conn, REGISTRY, notes, made, now)
        except IntegrityError as error:
            if "version" in str(error.orig) or "name" in str(error.orig):
                raise AlreadyExists(
                    f"artifact {fields.name!r} version {fields.version!r} already exists",
                    reason="ARTIFACT_EXISTS",
                ) from None
            raise

    async def get(self, artifact_id: uuid.UUID) -> Artifact:
        async with self.db.read() as conn:
            return await require_artifact(conn, artifact_id)

    async def update(
        self, artifact_id: uuid.UUID, changes: dict[str, Any], now: datetime
    ) -> Artifact:
        async with self.db.write() as conn:
            current = await require_artifact(conn, artifact_id, lock=True)
            if changes.get("origin_project_id") is not None:
                await require_project(conn, changes["origin_project_id"], ORIGIN_FIELD)
            values = _column_values(changes)
            if any(
                k in changes and changes[k] != getattr(current, k)
                for k in ("content_sha256", "storage_uri")
            ):
                # Named anew by the client: no longer the content the server stored.
                values["content_stored"] = False
            if {"description", "tags"} & changes.keys():
                values["search_text"] = search_text(
                    current.name,
                    current.version,
                    changes.get("description", current.description),
                    changes.get("tags", current.tags),
                )
            await conn.execute(
                update(artifacts)
                .where(artifacts.c.id == artifact_id)
                .values(**values, update_time=now)
            )
            audit.touch("artifacts", artifact_id, current.origin_project_id)
            return await require_artifact(conn, artifact_id)

    async def delete(self, artifact_id: uuid.UUID, now: datetime) -> Artifact:
        async with self.db.write() as conn:
            current = await require_artifact(conn, artifact_id)
            await conn.execute(
                update(artifacts)
                .where(artifacts.c.id == artifact_id)
                .values(delete_time=now, update_time=now)
            )
            audit.touch("artifacts", artifact_id, current.origin_project_id)
            return await require_artifact(conn, artifact_id, include_deleted=True)
