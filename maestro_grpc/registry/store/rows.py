"""Rows to records, and the lookups every registry store shares.

Each store module turns its rows into `model.py` records with these, so a
project or an artifact reads the same whichever store loaded it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc.errors import NotFound
from maestro_grpc.registry.model import (
    Artifact,
    ArtifactType,
    ArtifactUsage,
    Project,
    ProjectStatus,
    Success,
    TeamMember,
    TeamRole,
    UsageOutcome,
)
from maestro_grpc.registry.store.tables import artifacts, projects

# Columns selected for artifacts: everything but PostgreSQL's tsvector.
ARTIFACT_COLUMNS = [c for c in artifacts.c if c.name != "search_text"]


def success_from_row(row: Row[Any]) -> Success | None:
    if row.success_record_time is None:
        return None
    ttp = row.success_time_to_production_seconds
    return Success(
        succeeded=bool(row.success_succeeded),
        score=row.success_score,
        time_to_production=None if ttp is None else timedelta(seconds=ttp),
        metric_name=row.success_metric_name,
        metric_value=row.success_metric_value,
        business_impact=row.success_business_impact or "",
        notes=row.success_notes or "",
        record_time=row.success_record_time,
    )


def project_from_row(row: Row[Any], team: Sequence[TeamMember] = ()) -> Project:
    return Project(
        id=row.id,
        name=row.name,
        description=row.description,
        status=ProjectStatus(row.status),
        labels=dict(row.labels or {}),
        repo_url=row.repo_url,
        mlflow_experiment_id=row.mlflow_experiment_id,
        start_time=row.start_time,
        end_time=row.end_time,
        create_time=row.create_time,
        update_time=row.update_time,
        revision=row.revision,
        success=success_from_row(row),
        team=tuple(team),
    )


def member_from_row(row: Row[Any]) -> TeamMember:
    return TeamMember(
        id=row.id,
        project_id=row.project_id,
        person_id=row.person_id,
        display_name=row.display_name,
        role=TeamRole(row.role),
        years_experience=row.years_experience,
        skills=tuple(row.skills or ()),
        allocation=row.allocation,
        join_time=row.join_time,
        leave_time=row.leave_time,
        directory_person_id=row.directory_person_id,
    )


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
        content_stored=bool(row.content_stored),
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


def project_not_found(project_id: uuid.UUID, field: str = "") -> NotFound:
    what = f"project {project_id} ({field})" if field else f"project {project_id}"
    return NotFound(f"{what} not found", reason="PROJECT_NOT_FOUND")


def artifact_not_found(artifact_id: uuid.UUID) -> NotFound:
    return NotFound(f"artifact {artifact_id} not found", reason="ARTIFACT_NOT_FOUND")


async def require_project(conn: AsyncConnection, project_id: uuid.UUID, field: str = "") -> None:
    """NOT_FOUND unless the project exists (`field` names the request field that named it)."""
    found = (await conn.execute(select(projects.c.id).where(projects.c.id == project_id))).first()
    if found is None:
        raise project_not_found(project_id, field)


async def load_artifact(
    conn: AsyncConnection,
    artifact_id: uuid.UUID,
    *,
    include_deleted: bool = False,
    lock: bool = False,
) -> Artifact | None:
    """The artifact (None if there is none, or it is deleted and `include_deleted` is off).

    With `lock` its row stays locked for the transaction on PostgreSQL
    (SQLite's write transactions are serial anyway): writers of one
    artifact never race.
    """
    query = select(*ARTIFACT_COLUMNS).where(artifacts.c.id == artifact_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None or (row.delete_time is not None and not include_deleted):
        return None
    return artifact_from_row(row)


async def require_artifact(
    conn: AsyncConnection,
    artifact_id: uuid.UUID,
    *,
    include_deleted: bool = False,
    lock: bool = False,
) -> Artifact:
    """The artifact, or NOT_FOUND."""
    artifact = await load_artifact(conn, artifact_id, include_deleted=include_deleted, lock=lock)
    if artifact is None:
        raise artifact_not_found(artifact_id)
    return artifact
