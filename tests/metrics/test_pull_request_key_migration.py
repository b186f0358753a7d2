"""Migration 0011: stored merged pull requests take their merge commit into their key.

Stored before it, a merged pull request's key was (repo, number); after it,
the key is the one the server now computes for the same event, so a walk of
the same history after the upgrade stores nothing twice; and down again.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import insert, select

from maestro.metrics.v1 import process_event_pb2 as pe
from maestro_grpc.metrics.model import EventIn
from maestro_grpc.metrics.store.tables import process_events
from maestro_grpc.metrics.wire.eventconv import event_from_proto, key
from maestro_grpc.registry.store.tables import projects
from maestro_grpc.store.db import Database
from maestro_grpc.store.migrate import downgrade, upgrade

MERGE = "ab" * 20
LATER = "cd" * 20
T = datetime(2024, 5, 1, tzinfo=UTC)


def merged(sha: str) -> EventIn:
    event = pe.ProcessEvent(
        pull_request=pe.PullRequest(
            repo="github.com/o/r", number=7, state=pe.PULL_REQUEST_STATE_MERGED,
            merge_commit_sha=sha,
        )
    )  # fmt: skip
    event.pull_request.merge_time.FromDatetime(T)
    converted = event_from_proto(event, "e", datetime(2030, 1, 1, tzinfo=UTC))
    assert isinstance(converted, EventIn)
    return converted


async def test_merged_pull_requests_are_rekeyed_and_back(store_url: str) -> None:
    db = Database(store_url)
    try:
        await downgrade(db, "0010")
        async with db.engine.begin() as conn:
            project = uuid.uuid4()
            await conn.execute(
                insert(projects).values(
                    id=project, name=f"m-{project.hex[:8]}", status="active", labels={},
                    create_time=T, update_time=T,
                )
            )  # fmt: skip
            rows = [
                # merged, with a merge commit: re-keyed; open: kept.
                ("merged", key("github.com/o/r", 7), MERGE),
                ("open", key("github.com/o/r", 8), ""),
            ]
            for status, natural, ref in rows:
                await conn.execute(
                    insert(process_events).values(
                        project_id=project, type="pull_request", natural_key=natural, ref=ref,
                        status=status, state_rank=1, time=T, end_time=T, payload={},
                        digest="d", create_time=T, update_time=T,
                    )
                )  # fmt: skip
        await upgrade(db)
        keys = await _keys(db, project)
        assert keys == {merged(MERGE).natural_key, key("github.com/o/r", 8)}
        # The same number merged again is a second event.
        assert merged(LATER).natural_key not in keys
        await downgrade(db, "0010")
        assert await _keys(db, project) == {key("github.com/o/r", 7), key("github.com/o/r", 8)}
        await upgrade(db)
    finally:
        await db.dispose()


async def _keys(db: Database, project: uuid.UUID) -> set[str]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(process_events.c.natural_key).where(process_events.c.project_id == project)
        )
        return {r[0] for r in rows}
