"""The artifact library: versions, tags, search, usage and the impact score."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.clock import Clock, from_micros, to_micros, utcnow
from maestro_grpc.errors import AlreadyExists, InvalidArgument, NotFound
from maestro_grpc.paging import Cursor, Page
from maestro_grpc.registry.impact import UsageSignal, impact_score
from maestro_grpc.registry.model import (
    Artifact,
    ArtifactFields,
    ArtifactOrder,
    ArtifactQuery,
    ArtifactType,
    ArtifactUsage,
    UsageFields,
    UsageOutcome,
)
from maestro_grpc.registry.store.tables import artifact_usages, artifacts, projects
from maestro_grpc.registry.validation import search_words
from maestro_grpc.store import idempotency
from maestro_grpc.store.db import Database
from maestro_grpc.store.dialect import tags_all, tags_any, text_matches

# A usage may be logged with a time slightly ahead of ours (clock skew).
MAX_CLOCK_SKEW = timedelta(minutes=5)


def artifact_from_row(row: Row[Any]) -> Artifact:
    return Artifact(
        id=row.id,
        name=row.name,
        version=row.version,
        type=ArtifactType(row.type),
        description=row.description,
        tags=tuple(row.tags or ()),
        origin_project_id=row.origin_project_id,
        creator=row.creator,
        metadata=dict(row.metadata or {}),
        content_sha256=row.content_sha256,
        size_bytes=row.size_bytes,
        storage_uri=row.storage_uri,
        usage_count=row.usage_count,
        impact_score=row.impact_score,
        create_time=row.create_time,
        update_time=row.update_time,
        delete_time=row.delete_time,
    )


def usage_from_row(row: Row[Any]) -> ArtifactUsage:
    return ArtifactUsage(
        id=row.id,
        artifact_id=row.artifact_id,
        project_id=row.project_id,
        user=row.used_by,
        purpose=row.purpose,
        outcome=UsageOutcome(row.outcome),
        use_time=row.use_time,
        create_time=row.create_time,
    )


def search_text(name: str, version: str, description: str, tags: Sequence[str]) -> str:
    return " ".join(search_words(name, version, description, tags))


# Columns selected for artifacts: everything but PostgreSQL's tsvector.
ARTIFACT_COLUMNS = [c for c in artifacts.c if c.name != "search_text"]


class ArtifactLibrary:
    """Artifacts and their usage."""

    def __init__(self, db: Database, *, half_life_days: float, clock: Clock = utcnow) -> None:
        self.db = db
        self.half_life_days = half_life_days
        self.clock = clock

    async def create_artifact(
        self, fields: ArtifactFields, *, request_id: str = "", fingerprint: str = ""
    ) -> Artifact:
        now = self.clock()
        try:
            async with self.db.write() as conn:
                if request_id:
                    earlier = await idempotency.claim(
                        conn, "CreateArtifact", request_id, fingerprint, now
                    )
                    if earlier:
                        return await self._load(conn, uuid.UUID(earlier), include_deleted=True)
                if fields.origin_project_id is not None:
                    await _require_project(
                        conn, fields.origin_project_id, "artifact.origin_project_id"
                    )
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
                if request_id:
                    await idempotency.complete(conn, "CreateArtifact", request_id, str(artifact_id))
                return await self._load(conn, artifact_id)
        except IntegrityError as error:
            if "version" in str(error.orig) or "name" in str(error.orig):
                raise AlreadyExists(
                    f"artifact {fields.name!r} version {fields.version!r} already exists",
                    reason="ARTIFACT_EXISTS",
                ) from None
            raise

    async def get_artifact(self, artifact_id: uuid.UUID) -> Artifact:
        async with self.db.read() as conn:
            return await self._load(conn, artifact_id)

    async def _load(
        self,
        conn: AsyncConnection,
        artifact_id: uuid.UUID,
        *,
        include_deleted: bool = False,
        lock: bool = False,
    ) -> Artifact:
        query = select(*ARTIFACT_COLUMNS).where(artifacts.c.id == artifact_id)
        if lock:
            # Serialises writers of one artifact on PostgreSQL (SQLite's write
            # transactions are serial anyway), so usage counts never race.
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        if row is None or (row.delete_time is not None and not include_deleted):
            raise NotFound(f"artifact {artifact_id} not found", reason="ARTIFACT_NOT_FOUND")
        return artifact_from_row(row)

    async def update_artifact(self, artifact_id: uuid.UUID, changes: dict[str, Any]) -> Artifact:
        now = self.clock()
        async with self.db.write() as conn:
            current = await self._load(conn, artifact_id, lock=True)
            if changes.get("origin_project_id") is not None:
                await _require_project(
                    conn, changes["origin_project_id"], "artifact.origin_project_id"
                )
            values: dict[str, Any] = {}
            for key, value in changes.items():
                if isinstance(value, ArtifactType):
                    value = value.value
                elif key == "tags":
                    value = list(value)
                values[key] = value
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
            return await self._load(conn, artifact_id)

    async def delete_artifact(self, artifact_id: uuid.UUID) -> Artifact:
        now = self.clock()
        async with self.db.write() as conn:
            await self._load(conn, artifact_id)
            await conn.execute(
                update(artifacts)
                .where(artifacts.c.id == artifact_id)
                .values(delete_time=now, update_time=now)
            )
            return await self._load(conn, artifact_id, include_deleted=True)

    # ---- search ------------------------------------------------------------

    def _filter(self, query: ArtifactQuery) -> list[ColumnElement[bool]]:
        dialect = self.db.dialect
        conditions: list[ColumnElement[bool]] = [artifacts.c.delete_time.is_(None)]
        if query.types:
            conditions.append(artifacts.c.type.in_([t.value for t in query.types]))
        if query.tags_any:
            conditions.append(tags_any(artifacts, "tags", query.tags_any, dialect))
        if query.tags_all:
            conditions.append(tags_all(artifacts, "tags", query.tags_all, dialect))
        if query.origin_project_id is not None:
            conditions.append(artifacts.c.origin_project_id == query.origin_project_id)
        if query.min_impact_score > 0:
            conditions.append(artifacts.c.impact_score >= query.min_impact_score)
        if query.name:
            conditions.append(artifacts.c.name == query.name)
        if query.text:
            words = search_words(query.text)
            # Text with no word characters at all matches nothing.
            conditions.append(text_matches(artifacts, words, dialect) if words else false())
        return conditions

    async def search(
        self, query: ArtifactQuery, *, page_size: int, after: Cursor | None
    ) -> Page[Artifact]:
        conditions = self._filter(query)
        sort_col: Any = {
            ArtifactOrder.IMPACT: artifacts.c.impact_score,
            ArtifactOrder.RECENCY: artifacts.c.create_time,
            ArtifactOrder.USAGE: artifacts.c.usage_count,
        }[query.order]
        page_conditions = list(conditions)
        if after is not None:
            key: Any = after.key
            if query.order is ArtifactOrder.RECENCY:
                key = from_micros(int(key))
            elif query.order is ArtifactOrder.IMPACT:
                key = float(key)
            try:
                key_id = uuid.UUID(after.id)
            except ValueError:
                raise InvalidArgument.for_field(
                    "page_token", "is not a page token of this API"
                ) from None
            # Descending by the sort key, then by id: a backward index scan.
            page_conditions.append(
                or_(sort_col < key, and_(sort_col == key, artifacts.c.id < key_id))
            )
        # The page's ids first, then their rows: the filter and the order can
        # be answered from the covering indexes alone (an index-only scan that
        # skips non-matching rows without touching the table), so only the
        # rows of the page are read from the table, by primary key.
        page_ids = (
            select(artifacts.c.id)
            .where(*page_conditions)
            .order_by(sort_col.desc(), artifacts.c.id.desc())
            .limit(page_size + 1)
            .subquery("page_ids")
        )
        statement = (
            select(*ARTIFACT_COLUMNS)
            .where(artifacts.c.id.in_(select(page_ids.c.id)))
            .order_by(sort_col.desc(), artifacts.c.id.desc())
        )
        count = select(func.count()).select_from(artifacts).where(*conditions)
        if self.db.is_postgres:
            # Page and count are independent reads: run them side by side on
            # two connections rather than one after the other.
            async def page() -> list[Any]:
                async with self.db.read() as conn:
                    return list(await conn.execute(statement))

            async def counted() -> int:
                async with self.db.read() as conn:
                    return int((await conn.execute(count)).scalar_one())

            rows, total = await asyncio.gather(page(), counted())
        else:
            async with self.db.read() as conn:
                rows = list(await conn.execute(statement))
                total = int((await conn.execute(count)).scalar_one())
        items = [artifact_from_row(r) for r in rows[:page_size]]
        next_cursor = None
        if len(rows) > page_size:
            last = items[-1]
            next_cursor = Cursor(key=_sort_key(last, query.order), id=str(last.id))
        return Page(items=items, next_cursor=next_cursor, total_size=total)

    # ---- usage -------------------------------------------------------------

    async def log_usage(
        self, fields: UsageFields, *, request_id: str = "", fingerprint: str = ""
    ) -> tuple[ArtifactUsage, Artifact]:
        now = self.clock()
        use_time = fields.use_time or now
        if use_time > now + MAX_CLOCK_SKEW:
            raise InvalidArgument.for_field("artifact_usage.use_time", "must not be in the future")
        async with self.db.write() as conn:
            if request_id:
                earlier = await idempotency.claim(
                    conn, "LogArtifactUsage", request_id, fingerprint, now
                )
                if earlier:
                    usage = await self._load_usage(conn, uuid.UUID(earlier))
                    artifact = await self._load(conn, usage.artifact_id, include_deleted=True)
                    return usage, artifact
            await self._load(conn, fields.artifact_id, lock=True)
            await _require_project(conn, fields.project_id, "artifact_usage.project_id")
            usage_id = uuid.uuid4()
            await conn.execute(
                artifact_usages.insert().values(
                    id=usage_id,
                    artifact_id=fields.artifact_id,
                    project_id=fields.project_id,
                    used_by=fields.user,
                    purpose=fields.purpose,
                    outcome=fields.outcome.value,
                    use_time=use_time,
                    create_time=now,
                )
            )
            await self.refresh_impact(conn, fields.artifact_id, now)
            if request_id:
                await idempotency.complete(conn, "LogArtifactUsage", request_id, str(usage_id))
            usage = await self._load_usage(conn, usage_id)
            return usage, await self._load(conn, fields.artifact_id)

    async def refresh_impact(
        self, conn: AsyncConnection, artifact_id: uuid.UUID, now: datetime
    ) -> tuple[int, float]:
        """Recount an artifact's usages and recompute its impact score, in `conn`'s transaction."""
        rows = await conn.execute(
            select(
                artifact_usages.c.outcome,
                artifact_usages.c.use_time,
                projects.c.success_succeeded,
                projects.c.success_score,
                projects.c.success_record_time,
            )
            .join(projects, projects.c.id == artifact_usages.c.project_id)
            .where(artifact_usages.c.artifact_id == artifact_id)
        )
        signals = [
            UsageSignal(
                outcome=UsageOutcome(r.outcome),
                use_time=r.use_time,
                project_succeeded=r.success_succeeded if r.success_record_time else None,
                project_score=r.success_score if r.success_record_time else None,
            )
            for r in rows
        ]
        score = impact_score(signals, now, self.half_life_days)
        await conn.execute(
            update(artifacts)
            .where(artifacts.c.id == artifact_id)
            .values(usage_count=len(signals), impact_score=score)
        )
        return len(signals), score

    async def _load_usage(self, conn: AsyncConnection, usage_id: uuid.UUID) -> ArtifactUsage:
        row = (
            await conn.execute(select(artifact_usages).where(artifact_usages.c.id == usage_id))
        ).first()
        if row is None:  # pragma: no cover - usages are never deleted on their own
            raise NotFound(f"usage {usage_id} not found", reason="USAGE_NOT_FOUND")
        return usage_from_row(row)

    async def list_usages(
        self,
        *,
        artifact_id: uuid.UUID | None,
        project_id: uuid.UUID | None,
        page_size: int,
        after: Cursor | None,
    ) -> Page[ArtifactUsage]:
        query = select(artifact_usages)
        if artifact_id is not None:
            query = query.where(artifact_usages.c.artifact_id == artifact_id)
        if project_id is not None:
            query = query.where(artifact_usages.c.project_id == project_id)
        if after is not None:
            key_time = from_micros(int(after.key))
            try:
                key_id = uuid.UUID(after.id)
            except ValueError:
                raise InvalidArgument.for_field(
                    "page_token", "is not a page token of this API"
                ) from None
            query = query.where(
                or_(
                    artifact_usages.c.use_time < key_time,
                    and_(artifact_usages.c.use_time == key_time, artifact_usages.c.id < key_id),
                )
            )
        query = query.order_by(
            artifact_usages.c.use_time.desc(), artifact_usages.c.id.desc()
        ).limit(page_size + 1)
        async with self.db.read() as conn:
            if artifact_id is not None:
                await self._load(conn, artifact_id, include_deleted=True)
            if project_id is not None:
                await _require_project(conn, project_id, "project_id")
            rows = list(await conn.execute(query))
        items = [usage_from_row(r) for r in rows[:page_size]]
        next_cursor = None
        if len(rows) > page_size:
            last = items[-1]
            next_cursor = Cursor(key=to_micros(last.use_time), id=str(last.id))
        return Page(items=items, next_cursor=next_cursor)


def _sort_key(artifact: Artifact, order: ArtifactOrder) -> float | int:
    if order is ArtifactOrder.IMPACT:
        return artifact.impact_score
    if order is ArtifactOrder.RECENCY:
        return to_micros(artifact.create_time)
    return artifact.usage_count


async def _require_project(conn: AsyncConnection, project_id: uuid.UUID, field: str) -> None:
    found = (await conn.execute(select(projects.c.id).where(projects.c.id == project_id))).first()
    if found is None:
        raise NotFound(f"project {project_id} ({field}) not found", reason="PROJECT_NOT_FOUND")
