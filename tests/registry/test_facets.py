"""CountArtifactFacets through a real server, on both stores: the counts beside a search."""

from __future__ import annotations

from typing import Any

from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from tests.helpers import expect_invalid
from tests.registry.test_artifacts import DATASET, MODEL, NOTEBOOK, make_artifact


async def facets(
    registry: rsg.RegistryServiceStub, **kwargs: Any
) -> rs.CountArtifactFacetsResponse:
    return await registry.CountArtifactFacets(rs.CountArtifactFacetsRequest(**kwargs))


def counts(items: Any) -> dict[str, int]:
    return {f.value: f.count for f in items}


async def library(registry: rsg.RegistryServiceStub) -> None:
    await make_artifact(registry, "churn-model", type=MODEL, tags=["nlp", "prod"])
    await make_artifact(registry, "churn-model", "2.0.0", type=MODEL, tags=["nlp"])
    await make_artifact(registry, "reviews", type=DATASET, tags=["nlp", "text", "prod"])
    await make_artifact(registry, "eda", type=NOTEBOOK, tags=["text"], description="churn eda")
    gone = await make_artifact(registry, "old", type=MODEL, tags=["nlp"])
    await registry.DeleteArtifact(rs.DeleteArtifactRequest(artifact_id=gone.id))


async def test_counts_every_live_artifact(registry: rsg.RegistryServiceStub) -> None:
    await library(registry)
    answer = await facets(registry)
    assert answer.total_size == 4
    assert [(f.value, f.count) for f in answer.types] == [
        ("ARTIFACT_TYPE_MODEL", 2),
        ("ARTIFACT_TYPE_DATASET", 1),
        ("ARTIFACT_TYPE_NOTEBOOK", 1),
    ]
    # Most frequent first, then by tag; the deleted artifact's tags do not count.
    assert [(f.value, f.count) for f in answer.tags] == [("nlp", 3), ("prod", 2), ("text", 2)]


async def test_each_facet_ignores_its_own_filter(registry: rsg.RegistryServiceStub) -> None:
    await library(registry)
    answer = await facets(registry, types=[MODEL], tags_any=["text"])
    # Types counted without `types`: the artifacts tagged text, by type.
    assert counts(answer.types) == {"ARTIFACT_TYPE_DATASET": 1, "ARTIFACT_TYPE_NOTEBOOK": 1}
    # Tags counted without `tags_any`: the models' tags.
    assert counts(answer.tags) == {"nlp": 2, "prod": 1}
    # No model is tagged text: the search itself finds nothing.
    assert answer.total_size == 0
    search = await registry.SearchArtifacts(
        rs.SearchArtifactsRequest(types=[MODEL], tags_any=["text"])
    )
    assert search.total_size == answer.total_size


async def test_counts_follow_text_tags_all_and_impact(registry: rsg.RegistryServiceStub) -> None:
    await library(registry)
    answer = await facets(registry, query="churn")
    assert answer.total_size == 3
    assert counts(answer.types) == {"ARTIFACT_TYPE_MODEL": 2, "ARTIFACT_TYPE_NOTEBOOK": 1}
    answer = await facets(registry, tags_all=["nlp", "prod"])
    assert answer.total_size == 2
    assert counts(answer.tags) == {"nlp": 2, "prod": 2, "text": 1}
    answer = await facets(registry, min_impact_score=50)
    assert answer.total_size == 0
    assert list(answer.types) == []
    assert list(answer.tags) == []


async def test_max_tags_keeps_the_most_frequent(registry: rsg.RegistryServiceStub) -> None:
    await library(registry)
    answer = await facets(registry, max_tags=1)
    assert [(f.value, f.count) for f in answer.tags] == [("nlp", 3)]


async def test_bad_filters_are_invalid(registry: rsg.RegistryServiceStub) -> None:
    found = await expect_invalid(
        facets(
            registry,
            max_tags=201,
            min_impact_score=101,
            types=[ap.ArtifactType.ValueType(99)],
            origin_project_id="nope",
            tags_all=["Not A Tag!"],
        ),
        "max_tags",
    )
    assert {"min_impact_score", "types[0]", "origin_project_id", "tags_all[0]"} <= set(found)
