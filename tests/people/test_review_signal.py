"""Reviews as a RecommendArtifacts signal: of two artifacts alike in everything else, the
well-reviewed one ranks first and says why (real server with tokens, both stores)."""

from __future__ import annotations

from maestro.people.v1 import collaboration_service_pb2 as cs
from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from tests.access.conftest import Secured, bearer
from tests.people.test_collaboration import artifact, collab, someone

REVIEWED = ap.RECOMMENDATION_REASON_KIND_WELL_REVIEWED


async def test_the_well_reviewed_twin_ranks_first(secured: Secured) -> None:
    admin = bearer(secured.admin)
    me = await secured.registry.CreateProject(
        rs.CreateProjectRequest(project=pp.Project(name="me", labels={"domain": "vision"})),
        metadata=admin,
    )
    origin = await secured.project("origin")
    twins = [await artifact(secured, f"twin-{i}", "1", origin, "vision") for i in range(2)]
    # Without reviews the two tie, and the smaller id comes first: the reviews must
    # lift the other one above it.
    twins.sort(key=lambda a: a.id)
    first, good = twins
    reviewers = [await someone(secured, handle, "reader") for handle in ("ada", "bob", "cy")]
    api = collab(secured)
    for who, rating in zip(reviewers, (5, 5, 4), strict=True):
        await api.ReviewArtifact(
            cs.ReviewArtifactRequest(review=cs.Review(artifact_id=good.id, rating=rating)),
            metadata=who.md,
        )
    await api.ReviewArtifact(
        cs.ReviewArtifactRequest(review=cs.Review(artifact_id=first.id, rating=1)),
        metadata=reviewers[0].md,
    )

    found = await secured.registry.RecommendArtifacts(
        rs.RecommendArtifactsRequest(project_id=me.project.id), metadata=admin
    )
    ranked = [r.artifact.id for r in found.recommendations]
    assert ranked.index(good.id) < ranked.index(first.id)
    top = next(r for r in found.recommendations if r.artifact.id == good.id)
    reviewed = [r for r in top.reasons if r.kind == REVIEWED]
    assert [r.detail for r in reviewed] == ["rated 4.7 of 5 in 3 review(s)"]
    assert 0 < reviewed[0].weight < 1
    # A 1-star mean adds nothing: no such reason.
    low = next(r for r in found.recommendations if r.artifact.id == first.id)
    assert REVIEWED not in [r.kind for r in low.reasons]
