"""The SQL of artifact usages, and of the usage count and impact score they make."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc import audit
from maestro_grpc.errors import NotFound
from maestro_grpc.paging import Cursor, KeyKind, Page
from maestro_grpc.registry.impact import UsageSignal
from maestro_grpc.registry.model import Artifact, ArtifactUsage, UsageFields, UsageOutcome
from maestro_grpc.registry.store.rows import require_artifact, require_project, usage_from_row
from maestro_grpc.registry.store.tables import artifact_usages, artifacts, projects
from maestro_grpc.store.db import Database
from maestro_grpc.store.idempotency import RequestKey, create_once
from maestro_grpc.store.keyset import Keyset
from maestro_grpc.store.outbox import REGISTRY, Notes, noted

# How the domain scores an artifact's usages (the impact score with its clock and half-life).
Scorer = Callable[[Sequence[UsageSignal]], float]

# Every usage of some artifacts, by artifact: each usage's id and what the score needs of it.
UsageSignals = dict[uuid.UUID, list[tuple[uuid.UUID, UsageSignal]]]

# ListArtifactUsages pages by use time, latest first.
BY_USE = Keyset(
    key=artifact_usages.c.use_time, id=artifact_usages.c.id, key_kind=KeyKind.TIME, descending=True
)


def _signals(artifact_ids: Sequence[uuid.UUID]) -> Select[Any]:
    """What the score needs of every usage of these artifacts, with the usage's ids."""
    return (
        select(
            artifact_usages.c.id,
            artifact_usages.c.artifact_id,
            artifact_usages.c.outcome,
            artifact_usages.c.use_time,
            projects.c.success_succeeded,
            projects.c.success_score,
            projects.c.success_record_time,
        )
        .join(projects, projects.c.id == artifact_usages.c.project_id)
        .where(artifact_usages.c.artifact_id.in_(sorted(artifact_ids, key=str)))
    )


def _signal(r: Row[Any]) -> UsageSignal:
    return UsageSignal(
        outcome=UsageOutcome(r.outcome),
        use_time=r.use_time,
        project_succeeded=r.success_succeeded if r.success_record_time else None,
        project_score=r.success_score if r.success_record_time else None,
    )


async def rescore(
    conn: AsyncConnection, artifact_id: uuid.UUID, score: Scorer
) -> tuple[int, float]:
    """Recount an artifact's usages and store `score` of them, in `conn`'s transaction."""
    signals = [_signal(r) for r in await conn.execute(_signals([artifact_id]))]
    impact = score(signals)
    await conn.execute(
        update(artifacts)
        .where(artifacts.c.id == artifact_id)
        .values(usage_count=len(signals), impact_score=impact)
    )
    return len(signals), impact


async def _load_usage(conn: AsyncConnection, usage_id: uuid.UUID) -> ArtifactUsage:
    row = (
        await conn.execute(select(artifact_usages).where(artifact_usages.c.id == usage_id))
    ).first()
    if row is None:  # pragma: no cover - usages are never deleted on their own
        raise NotFound(f"usage {usage_id} not found", reason="USAGE_NOT_FOUND")
    return usage_from_row(row)


class UsageStore:
    """Artifact usages: each method one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def log(
        self,
        fields: UsageFields,
        *,
        use_time: datetime,
        now: datetime,
        score: Scorer,
        request_id: str = "",
        fingerprint: str = "",
        notes: Notes[tuple[ArtifactUsage, Artifact]] | None = None,
    ) -> tuple[ArtifactUsage, Artifact]:
        """Record a usage and rescore its artifact; the usage and the artifact after it
        (`notes`: the feed's, in the same transaction)."""
        key = RequestKey("LogArtifactUsage", request_id, fingerprint)
        async with self.db.write() as conn:

            async def insert() -> uuid.UUID:
                await require_artifact(conn, fields.artifact_id, lock=True)
                await require_project(conn, fields.project_id, "artifact_usage.project_id")
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
                await rescore(conn, fields.artifact_id, score)
                audit.touch("artifact_usages", usage_id, fields.project_id)
                audit.touch("artifacts", fields.artifact_id)
                return usage_id

            async def load(usage_id: uuid.UUID) -> tuple[ArtifactUsage, Artifact]:
                usage = await _load_usage(conn, usage_id)
                artifact = await require_artifact(conn, usage.artifact_id, include_deleted=True)
                return usage, artifact

            made = await create_once(conn, key, now, insert, load)
            return await noted(conn, REGISTRY, notes, made, now)

    async def list(
        self,
        *,
        artifact_id: uuid.UUID | None,
        project_id: uuid.UUID | None,
        page_size: int,
        after: Cursor | None,
        within: frozenset[uuid.UUID] | None = None,
    ) -> Page[ArtifactUsage]:
        query = select(artifact_usages)
        if within is not None:
            query = query.where(artifact_usages.c.project_id.in_(sorted(within, key=str)))
        if artifact_id is not None:
            query = query.where(artifact_usages.c.artifact_id == artifact_id)
        if project_id is not None:
            query = query.where(artifact_usages.c.project_id == project_id)
        beyond = BY_USE.after(after)
        if beyond is not None:
            query = query.where(beyond)
        query = query.order_by(*BY_USE.order_by()).limit(page_size + 1)
        async with self.db.read() as conn:
            if artifact_id is not None:
                await require_artifact(conn, artifact_id, include_deleted=True)
            if project_id is not None:
                await require_project(conn, project_id, "project_id")
            rows = list(await conn.execute(query))
        page, next_cursor = BY_USE.page(
            rows, page_size, key_of=lambda r: r.use_time, id_of=lambda r: r.id
        )
        return Page(items=[usage_from_row(r) for r in page], next_cursor=next_cursor)

    async def signals(self, artifact_ids: Sequence[uuid.UUID]) -> UsageSignals:
        """Every usage of these artifacts (its id and what the score needs of it), by
        artifact: all of them, whoever may see which, since the score sums them all."""
        found: dict[uuid.UUID, list[tuple[uuid.UUID, UsageSignal]]] = {a: [] for a in artifact_ids}
        if not artifact_ids:
            return found
        async with self.db.read() as conn:
            for r in await conn.execute(_signals(artifact_ids)):
                found[r.artifact_id].append((r.id, _signal(r)))
        return found
