"""The artifact indexer: impact scores, blob verification, blob GC, replicas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select, update

from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from maestro_grpc.app import build_indexer
from maestro_grpc.blobs import BlobStore, LocalBlobStore, S3BlobStore, blob_key
from maestro_grpc.registry.domain import indexer as indexer_module
from maestro_grpc.registry.domain.indexer import JOB_KEYS, QUEUE, Indexer
from maestro_grpc.registry.impact import UsageSignal, impact_score
from maestro_grpc.registry.model import UsageOutcome
from maestro_grpc.registry.store.tables import content_blobs
from maestro_grpc.registry.wire.telemetry import IndexerMetrics
from maestro_grpc.server import RunningServer
from maestro_grpc.store.schema import worker_jobs
from tests.content.support import (
    KIB,
    MIB,
    MovableClock,
    chunks_of,
    download,
    leftovers,
    make_artifact,
    pattern,
    sha,
    stored,
    upload,
)
from tests.helpers import error_info, eventually, expect_error, ts

HOUR = timedelta(hours=1)


def indexer(
    server: RunningServer,
    clock: MovableClock | None = None,
    *,
    owner: str = "test-indexer",
    blobs: BlobStore | None = None,
    **settings: Any,
) -> Indexer:
    """An indexer replica on the server's store and blobs, as `maestro worker indexer`
    builds it, with metrics of its own (a grace period of an hour unless told)."""
    settings.setdefault("blob_gc_grace_seconds", HOUR.total_seconds())
    ctx = replace(
        server.ctx,
        settings=replace(server.settings, **settings),
        blobs=blobs or server.ctx.blobs,
        clock=clock or MovableClock.frozen(),
        prometheus=CollectorRegistry(),
        background=[],
    )
    return build_indexer(ctx, owner)


def metric(worker: Indexer, name: str, **labels: str) -> float:
    assert isinstance(worker.observer, IndexerMetrics)
    value = worker.observer.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def delete(registry: rsg.RegistryServiceStub, artifact: ap.Artifact) -> None:
    await registry.DeleteArtifact(rs.DeleteArtifactRequest(artifact_id=artifact.id))


async def blob_rows(server: RunningServer) -> dict[str, str]:
    async with server.db.read() as conn:
        rows = await conn.execute(select(content_blobs.c.sha256, content_blobs.c.state))
        return {r.sha256: r.state for r in rows}


async def renewed(server: RunningServer, digest: str, since: datetime) -> bool:
    """Whether an upload renewed the blob's reference_time at `since` or later."""
    async with server.db.read() as conn:
        row = (
            await conn.execute(
                select(content_blobs.c.reference_time).where(content_blobs.c.sha256 == digest)
            )
        ).first()
    return row is not None and row.reference_time >= since


# ---- garbage collection ---------------------------------------------------------------


async def test_gc_removes_only_unreferenced_blobs_after_the_grace_period(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    shared, lonely, kept = (pattern(MIB, seed=s) for s in (30, 31, 32))
    a = await make_artifact(registry, "a")
    b = await make_artifact(registry, "b")
    c = await make_artifact(registry, "c")
    d = await make_artifact(registry, "d")
    await upload(registry, a.id, shared)
    await upload(registry, b.id, shared)
    await upload(registry, c.id, lonely)
    await upload(registry, d.id, kept)
    await delete(registry, a)  # b still refers to the shared blob
    await delete(registry, c)  # nothing refers to the lonely one any more

    clock = MovableClock.frozen()
    worker = indexer(server, clock)
    await worker.collect_garbage()
    clock.now += HOUR - timedelta(minutes=1)
    await worker.collect_garbage()
    assert stored(server) == {sha(shared), sha(lonely), sha(kept)}

    clock.now += timedelta(minutes=2)
    await worker.collect_garbage()
    assert stored(server) == {sha(shared), sha(kept)}
    assert await blob_rows(server) == {sha(shared): "present", sha(kept): "present"}
    assert metric(worker, "maestro_indexer_blobs_collected_total") == 1
    assert metric(worker, "maestro_indexer_blob_bytes_collected_total") == len(lonely)
    assert (await download(registry, b.id))[2] == shared
    assert (await download(registry, d.id))[2] == kept


async def test_a_blob_referenced_again_during_the_grace_period_is_kept(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    data = pattern(MIB, seed=33)
    first = await make_artifact(registry, "first")
    await upload(registry, first.id, data)
    await delete(registry, first)
    clock = MovableClock.frozen()
    worker = indexer(server, clock)
    await worker.collect_garbage()  # unreferenced from now on

    clock.now += HOUR / 2
    second = await make_artifact(registry, "second")
    assert (await upload(registry, second.id, data)).deduplicated
    clock.now += 2 * HOUR
    await worker.collect_garbage()
    assert stored(server) == {sha(data)}
    assert (await download(registry, second.id))[2] == data

    # Unreferenced again: the grace period starts over.
    await delete(registry, second)
    await worker.collect_garbage()
    clock.now += HOUR / 2
    await worker.collect_garbage()
    assert stored(server) == {sha(data)}
    clock.now += HOUR
    await worker.collect_garbage()
    assert stored(server) == set()
    assert await blob_rows(server) == {}


async def test_an_upload_in_flight_keeps_the_blob_it_declared(
    registry: rsg.RegistryServiceStub, server: RunningServer, clock: MovableClock
) -> None:
    """The race: a client declares the hash of a blob that has been unreferenced for
    longer than the grace period, and the GC runs while the bytes stream in."""
    data, other = pattern(2 * MIB, seed=34), pattern(MIB, seed=35)
    for name, content in (("old", data), ("other", other)):
        artifact = await make_artifact(registry, name)
        await upload(registry, artifact.id, content)
        await delete(registry, artifact)
    worker = indexer(server, clock)  # the server's clock
    await worker.collect_garbage()
    clock.now += 2 * HOUR  # both blobs are past the grace period now

    newcomer = await make_artifact(registry, "newcomer")
    header_sent, go_on = asyncio.Event(), asyncio.Event()

    async def requests() -> AsyncIterator[rs.UploadArtifactContentRequest]:
        yield rs.UploadArtifactContentRequest(
            header=rs.UploadHeader(artifact_id=newcomer.id, declared_sha256=sha(data))
        )
        for n, chunk in enumerate(chunks_of(data, 256 * KIB)):
            yield rs.UploadArtifactContentRequest(chunk=chunk)
            if n == 0:
                header_sent.set()
                await go_on.wait()
        yield rs.UploadArtifactContentRequest(finish=rs.UploadFinish())

    call = registry.UploadArtifactContent(requests())
    await header_sent.wait()
    await eventually(
        lambda: renewed(server, sha(data), clock.now), "the server renews the declared blob"
    )
    await worker.collect_garbage()
    assert stored(server) == {sha(data)}  # the other one, untouched, was collected
    go_on.set()
    response = await call
    assert response.deduplicated
    assert (await download(registry, newcomer.id))[2] == data


async def test_an_upload_waits_for_a_blob_being_collected_then_stores_its_own(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    data = pattern(MIB, seed=36)
    old = await make_artifact(registry, "old")
    await upload(registry, old.id, data)
    await delete(registry, old)
    # The GC is removing it right now (between marking it and deleting its row).
    async with server.db.write() as conn:
        await conn.execute(
            update(content_blobs)
            .where(content_blobs.c.sha256 == sha(data))
            .values(state="deleting")
        )
    new = await make_artifact(registry, "new")
    pending = asyncio.ensure_future(upload(registry, new.id, data))
    # Real time: the upload polls the row (every 0.2 s) and must still be waiting.
    await asyncio.sleep(0.5)
    assert not pending.done()
    # The GC finishes: the bytes go, then the row.
    worker = indexer(server)
    await worker.collect_garbage()
    response = await pending
    assert not response.deduplicated
    assert stored(server) == {sha(data)}
    assert await blob_rows(server) == {sha(data): "present"}
    assert (await download(registry, new.id))[2] == data


async def test_a_declared_blob_collected_during_the_upload_aborts_it(
    registry: rsg.RegistryServiceStub, server: RunningServer, clock: MovableClock
) -> None:
    data = pattern(MIB, seed=37)
    old = await make_artifact(registry, "old")
    await upload(registry, old.id, data)
    await delete(registry, old)
    new = await make_artifact(registry, "new")
    clock.now += timedelta(minutes=1)  # tells the upload's renewal from the first upload
    header_sent, go_on = asyncio.Event(), asyncio.Event()

    async def requests() -> AsyncIterator[rs.UploadArtifactContentRequest]:
        yield rs.UploadArtifactContentRequest(
            header=rs.UploadHeader(artifact_id=new.id, declared_sha256=sha(data))
        )
        header_sent.set()
        await go_on.wait()
        for chunk in chunks_of(data, 256 * KIB):
            yield rs.UploadArtifactContentRequest(chunk=chunk)
        yield rs.UploadArtifactContentRequest(finish=rs.UploadFinish())

    call = registry.UploadArtifactContent(requests())
    await header_sent.wait()
    await eventually(
        lambda: renewed(server, sha(data), clock.now), "the server renews the declared blob"
    )
    # A collection that ignores the renewal (as if the upload outlasted the grace period).
    async with server.db.write() as conn:
        await conn.execute(content_blobs.delete().where(content_blobs.c.sha256 == sha(data)))
    await server.ctx.blobs.delete(sha(data))
    go_on.set()
    error = await expect_error(call, grpc.StatusCode.ABORTED)
    assert error_info(error).reason == "CONTENT_COLLECTED"
    got = (await registry.GetArtifact(rs.GetArtifactRequest(artifact_id=new.id))).artifact
    assert got.content_sha256 == ""


async def test_gc_removes_what_crashed_uploads_left(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    blobs = server.ctx.blobs
    # A crash after the bytes reached their address, before the row said so.
    orphan = pattern(MIB, seed=38)
    writer = await blobs.writer()
    await writer.write(orphan)
    await writer.commit(sha(orphan))
    clock = MovableClock.frozen()
    async with server.db.write() as conn:
        await conn.execute(
            content_blobs.insert().values(
                sha256=sha(orphan),
                size_bytes=len(orphan),
                state="pending",
                create_time=clock.now,
                reference_time=clock.now,
            )
        )
    # A crash halfway through writing (a temporary file, or a multipart upload).
    abandoned = await blobs.writer()
    await abandoned.write(pattern(9 * MIB, seed=39))
    await eventually(lambda: leftovers(server), "the part upload is under way")

    worker = indexer(server, clock)
    await worker.collect_garbage()
    assert stored(server) == {sha(orphan)}  # still young
    clock.now += 2 * HOUR
    await worker.collect_garbage()
    assert stored(server) == set()
    assert await blob_rows(server) == {}
    assert leftovers(server) == []
    assert metric(worker, "maestro_indexer_upload_leftovers_swept_total") >= 1


# ---- verification -------------------------------------------------------------------


def corrupt(server: RunningServer, digest: str, data: bytes | None) -> None:
    """Overwrite (or, with None, remove) a blob behind the server's back."""
    blobs = server.ctx.blobs
    if isinstance(blobs, LocalBlobStore):
        if data is None:
            blobs.path(digest).unlink()
        else:
            blobs.path(digest).write_bytes(data)
        return
    assert isinstance(blobs, S3BlobStore)
    if data is None:
        blobs.client.delete_object(Bucket=blobs.bucket, Key=blob_key(digest))
    else:
        blobs.client.put_object(Bucket=blobs.bucket, Key=blob_key(digest), Body=data)


async def test_verification_reports_bad_blobs(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    good, damaged, lost = (pattern(MIB, seed=s) for s in (40, 41, 42))
    artifacts = {}
    for name, data in (("good", good), ("damaged", damaged), ("lost", lost)):
        artifacts[name] = await make_artifact(registry, name)
        await upload(registry, artifacts[name].id, data)
    corrupt(server, sha(damaged), damaged[:-1] + b"!")
    corrupt(server, sha(lost), None)

    worker = indexer(server, indexer_verify_sample=10)
    await worker.verify()
    assert metric(worker, "maestro_indexer_blobs_verified_total", result="ok") == 1
    assert metric(worker, "maestro_indexer_blobs_verified_total", result="mismatch") == 1
    assert metric(worker, "maestro_indexer_blobs_verified_total", result="missing") == 1
    assert metric(worker, "maestro_indexer_bad_blobs") == 2

    error = await expect_error(download(registry, artifacts["lost"].id), grpc.StatusCode.DATA_LOSS)
    assert error_info(error).reason == "CONTENT_MISSING"
    assert (await download(registry, artifacts["good"].id))[2] == good


async def test_verification_samples_the_longest_unverified_first(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    contents = [pattern(64 * KIB, seed=s) for s in range(50, 55)]
    for n, data in enumerate(contents):
        artifact = await make_artifact(registry, f"v{n}")
        await upload(registry, artifact.id, data)
    clock = MovableClock.frozen()
    worker = indexer(server, clock, indexer_verify_sample=2)
    seen: list[set[str]] = []
    for _ in range(3):
        clock.now += timedelta(minutes=1)
        await worker.verify()
        async with server.db.read() as conn:
            rows = await conn.execute(
                select(content_blobs.c.sha256).where(content_blobs.c.verify_time == clock.now)
            )
            seen.append({r.sha256 for r in rows})
    assert [len(s) for s in seen] == [2, 2, 2]
    # The first two passes verify four different blobs; the third the fifth one first.
    assert len(seen[0] | seen[1]) == 4
    assert (seen[0] | seen[1] | seen[2]) == {sha(d) for d in contents}
    assert metric(worker, "maestro_indexer_blobs_verified_total", result="ok") == 6


# ---- impact scores ------------------------------------------------------------------


async def test_impact_scores_follow_outcomes_and_time(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    user = (
        await registry.CreateProject(rs.CreateProjectRequest(project=pp.Project(name="u")))
    ).project
    other = (
        await registry.CreateProject(rs.CreateProjectRequest(project=pp.Project(name="o")))
    ).project
    artifact = await make_artifact(registry, "scored", tags=["vision"])
    use_time = datetime.now(UTC) - timedelta(days=30)
    logged = await registry.LogArtifactUsage(
        rs.LogArtifactUsageRequest(
            artifact_usage=ap.ArtifactUsage(
                artifact_id=artifact.id,
                project_id=user.id,
                outcome=ap.USAGE_OUTCOME_HELPFUL,
                use_time=ts(use_time),
            )
        )
    )
    before = logged.artifact.impact_score
    # The outcome of the using project arrives later; the RPC path does not rescore.
    await registry.UpdateProjectSuccess(
        rs.UpdateProjectSuccessRequest(
            project_id=user.id, success=pp.ProjectSuccess(succeeded=True, score=0.9)
        )
    )
    got = (await registry.GetArtifact(rs.GetArtifactRequest(artifact_id=artifact.id))).artifact
    assert got.impact_score == before

    clock = MovableClock.frozen()
    worker = indexer(server, clock)
    half_life = server.settings.impact_half_life_days
    stored_use_time = datetime.fromtimestamp(
        logged.artifact_usage.use_time.ToMicroseconds() / 1e6, UTC
    )
    signal = UsageSignal(UsageOutcome.HELPFUL, stored_use_time, True, 0.9)
    for shift in (timedelta(0), timedelta(days=half_life)):
        clock.now = clock.now + shift
        for shard in "0123456789abcdef":
            await worker.refresh_impact(shard)
        got = (await registry.GetArtifact(rs.GetArtifactRequest(artifact_id=artifact.id))).artifact
        assert got.impact_score == pytest.approx(impact_score([signal], clock.now, half_life))
        assert got.usage_count == 1
    assert got.impact_score < before  # a half-life later, it has decayed below the start
    assert metric(worker, "maestro_indexer_artifacts_rescored_total") == 2
    assert metric(worker, "maestro_indexer_impact_scores_changed_total") == 2

    # RecommendArtifacts reads the refreshed score.
    recommended = await registry.RecommendArtifacts(
        rs.RecommendArtifactsRequest(project_id=other.id)
    )
    [recommendation] = recommended.recommendations
    assert recommendation.artifact.impact_score == pytest.approx(got.impact_score)
    assert any(f"{got.impact_score:.1f}" in r.detail for r in recommendation.reasons)


async def test_rescoring_walks_every_shard_in_batches(
    registry: rsg.RegistryServiceStub, server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indexer_module, "IMPACT_BATCH", 2)
    project = (
        await registry.CreateProject(rs.CreateProjectRequest(project=pp.Project(name="p")))
    ).project
    ids = []
    for n in range(12):
        artifact = await make_artifact(registry, f"art{n}")
        ids.append(artifact.id)
        await registry.LogArtifactUsage(
            rs.LogArtifactUsageRequest(
                artifact_usage=ap.ArtifactUsage(
                    artifact_id=artifact.id, project_id=project.id, outcome=ap.USAGE_OUTCOME_HELPFUL
                )
            )
        )
    worker = indexer(server)
    total = 0
    for shard in "0123456789abcdef":
        rescored, _ = await worker.refresh_impact(shard)
        assert rescored == sum(1 for i in ids if i[0] == shard)
        total += rescored
    assert total == 12


# ---- the job queue --------------------------------------------------------------------


async def test_two_replicas_at_once_do_each_job_once(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    project = (
        await registry.CreateProject(rs.CreateProjectRequest(project=pp.Project(name="p")))
    ).project
    for n in range(20):
        artifact = await make_artifact(registry, f"art{n}")
        await upload(registry, artifact.id, pattern(16 * KIB, seed=100 + n))
        await registry.LogArtifactUsage(
            rs.LogArtifactUsageRequest(
                artifact_usage=ap.ArtifactUsage(
                    artifact_id=artifact.id, project_id=project.id, outcome=ap.USAGE_OUTCOME_HELPFUL
                )
            )
        )
    clock = MovableClock.frozen()
    one = indexer(server, clock, owner="replica-1")
    two = indexer(server, clock, owner="replica-2")
    done_one, done_two = await asyncio.gather(one.run_due(), two.run_due())
    assert sorted(done_one + done_two) == sorted(JOB_KEYS)
    ran = sum(
        metric(w, "maestro_indexer_jobs_total", task=kind, outcome="ok")
        for w in (one, two)
        for kind in ("impact", "verify", "gc")
    )
    assert ran == len(JOB_KEYS)
    assert (
        metric(one, "maestro_indexer_artifacts_rescored_total")
        + metric(two, "maestro_indexer_artifacts_rescored_total")
        == 20
    )

    # Each job waits for its next interval; nothing is due before it.
    async with server.db.read() as conn:
        rows = list(await conn.execute(select(worker_jobs).where(worker_jobs.c.queue == QUEUE)))
    assert sorted(r.key for r in rows) == sorted(JOB_KEYS)
    interval = timedelta(seconds=server.settings.indexer_interval_seconds)
    assert {(r.run_after, r.lease_owner, r.attempts) for r in rows} == {
        (clock.now + interval, None, 0)
    }
    assert list(await asyncio.gather(one.run_due(), two.run_due())) == [[], []]
    clock.now += interval
    again = await asyncio.gather(one.run_due(), two.run_due())
    assert sorted(again[0] + again[1]) == sorted(JOB_KEYS)


async def test_a_failing_job_is_retried_later(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    import boto3
    from botocore.config import Config

    unreachable = S3BlobStore(
        "nowhere",
        client=boto3.session.Session().client(
            "s3",
            endpoint_url="http://127.0.0.1:9",
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1),
        ),
    )
    clock = MovableClock.frozen()
    worker = indexer(
        server,
        clock,
        owner="broken",
        blobs=unreachable,
        blob_gc_grace_seconds=server.settings.blob_gc_grace_seconds,
    )
    done = await worker.run_due()
    assert "gc" not in done
    assert set(done) == set(JOB_KEYS) - {"gc"}
    assert metric(worker, "maestro_indexer_jobs_total", task="gc", outcome="error") == 1
    async with server.db.read() as conn:
        row = (
            await conn.execute(
                select(worker_jobs).where(worker_jobs.c.queue == QUEUE, worker_jobs.c.key == "gc")
            )
        ).one()
    assert row.lease_owner is None
    assert "unreachable" in row.last_error, row.last_error
    assert row.run_after == clock.now + timedelta(seconds=30)
    clock.now += timedelta(seconds=31)
    assert await worker.run_due() == []  # it failed again
    assert metric(worker, "maestro_indexer_jobs_total", task="gc", outcome="error") == 2


async def test_an_unknown_job_fails_and_is_retried(server: RunningServer) -> None:
    from maestro_grpc.store import jobs

    clock = MovableClock.frozen()
    worker = indexer(server, clock, owner="me")
    async with server.db.write() as conn:
        await jobs.enqueue(conn, QUEUE, "rebuild/everything", now=clock.now)
    [job] = await jobs.lease(server.db, QUEUE, "me", now=clock.now, limit=1)
    assert not await worker.run_job(job)
    async with server.db.read() as conn:
        row = (await conn.execute(select(worker_jobs).where(worker_jobs.c.id == job.id))).one()
    assert "unknown indexer job" in row.last_error
    assert row.lease_owner is None
    assert metric(worker, "maestro_indexer_jobs_total", task="rebuild", outcome="error") == 1


async def test_the_indexer_applies_the_audit_retention(
    server: RunningServer, registry: rsg.RegistryServiceStub
) -> None:
    """MAESTRO_AUDIT_RETENTION_DAYS: the indexer's `audit` job deletes older events."""
    from maestro_grpc.store.schema import audit_events

    await registry.CreateProject(rs.CreateProjectRequest(project=pp.Project(name="audited")))

    async def kept() -> int:
        async with server.db.read() as conn:
            rows = await conn.execute(select(audit_events.c.method))
            return sum(1 for r in rows if r.method.endswith("/CreateProject"))

    assert await kept() == 1
    assert "audit" not in indexer(server).job_keys  # no retention set: no job

    clock = MovableClock.frozen()
    worker = indexer(server, clock, audit_retention_days=30)
    assert "audit" in await worker.run_due()
    assert await kept() == 1  # a recent event stays

    clock.now += timedelta(days=31)
    assert "audit" in await worker.run_due()
    assert await kept() == 0
    assert metric(worker, "maestro_indexer_jobs_total", task="audit", outcome="ok") == 2
