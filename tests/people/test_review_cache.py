"""GetArtifact's review summary comes from the per-replica artifact cache (PostgreSQL), and a
new review shows in it at once on the replica that took it and, by the reviews' NOTIFY
trigger (migration 0016), soon on every other. On SQLite the cache is off; the same holds."""

from __future__ import annotations

from functools import partial

import grpc.aio

from maestro.people.v1 import collaboration_service_pb2 as cs
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from maestro_grpc.config import Settings
from maestro_grpc.server import RunningServer, start_server
from tests.access.conftest import Secured, bearer
from tests.helpers import eventually
from tests.people.test_collaboration import artifact, collab, someone
from tests.registry.test_artifact_cache import armed


async def summary(stub: rsg.RegistryServiceStub, artifact_id: str, md: object) -> tuple[float, int]:
    got = await stub.GetArtifact(rs.GetArtifactRequest(artifact_id=artifact_id), metadata=md)  # type: ignore[arg-type]
    return got.artifact.review_average, got.artifact.review_count


async def test_a_new_review_shows_in_get_artifact_right_after_it_is_posted(
    secured: Secured, settings: Settings
) -> None:
    churn = await secured.project("churn")
    model = await artifact(secured, "churn-model", "1", churn)
    ada = await someone(secured, "ada")
    bob = await someone(secured, "bob")
    admin = bearer(secured.admin)
    other = await start_server(settings)  # a second replica on the same store
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{other.port}") as channel:
            there = rsg.RegistryServiceStub(channel)
            cached = not settings.is_embedded_store
            if cached:  # A replica caches once its change feed listens.
                for replica in (secured.server, other):
                    await eventually(partial(armed, replica), "the artifact change feed connects")
            # Both replicas have read it (and, on PostgreSQL, cached it): no reviews.
            before = hits(other), hits(secured.server)
            for _ in range(2):
                assert await summary(secured.registry, model.id, admin) == (0.0, 0)
                assert await summary(there, model.id, admin) == (0.0, 0)
            # The second read on each replica came from its cache, so a summary
            # that changes below is one the cache was told about, not a fresh read.
            after = hits(other), hits(secured.server)
            assert after == tuple(b + (1 if cached else 0) for b in before)

            for who, rating, expected in ((ada, 4, (4.0, 1)), (bob, 1, (2.5, 2))):
                await collab(secured).ReviewArtifact(
                    cs.ReviewArtifactRequest(
                        review=cs.Review(artifact_id=model.id, rating=rating, text="ok")
                    ),
                    metadata=who.md,
                )
                # The replica that took the review: at once.
                assert await summary(secured.registry, model.id, admin) == expected
                # Another replica: once the trigger's notification arrives.
                await eventually(
                    partial(_shows, there, model.id, admin, expected),
                    "the other replica shows the review",
                )
                # And it is cached again: the next read is a hit with the new summary.
                seen = hits(other)
                assert await summary(there, model.id, admin) == expected
                assert hits(other) == seen + (1 if cached else 0)
    finally:
        await other.stop(grace=0.2)


def hits(server: RunningServer) -> float:
    # Not exported where the cache is off (SQLite): no hits.
    return server.registry.get_sample_value("maestro_artifact_cache_hits_total") or 0.0


async def _shows(
    stub: rsg.RegistryServiceStub, artifact_id: str, md: object, expected: tuple[float, int]
) -> bool:
    return await summary(stub, artifact_id, md) == expected
