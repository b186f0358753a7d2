"""SearchArtifacts' and CountArtifactFacets' totals beyond the count limit, on both stores.

A broad match at a million artifacts is cheap to page but dear to count, so
the server counts no further than MAESTRO_SEARCH_COUNT_LIMIT (here a limit
of 3, so that a handful of artifacts crosses it) and says when its total is
a lower bound.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from maestro_grpc.config import Settings
from maestro_grpc.server import start_server
from tests.conftest import with_settings
from tests.registry.test_artifacts import DATASET, MODEL, make_artifact, names, search

LIMIT = 3


@pytest.fixture
async def capped(settings: Settings) -> AsyncIterator[rsg.RegistryServiceStub]:
    running = await start_server(with_settings(settings, search_count_limit=LIMIT))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield rsg.RegistryServiceStub(channel)
    finally:
        await running.stop(grace=0.2)


async def library(registry: rsg.RegistryServiceStub) -> None:
    """Five models tagged nlp, three datasets tagged nlp (one also text)."""
    for i in range(5):
        await make_artifact(registry, f"model-{i}", type=MODEL, tags=["nlp"])
    for i in range(3):
        tags = ["nlp", "text"] if i == 0 else ["nlp"]
        await make_artifact(registry, f"data-{i}", type=DATASET, tags=tags)


async def test_total_beyond_the_limit_is_a_lower_bound(capped: rsg.RegistryServiceStub) -> None:
    await library(capped)
    found = await search(capped, tags_any=["nlp"], page_size=2)
    # Eight match: the total says "at least 3", and the page is whole.
    assert found.total_size == LIMIT
    assert found.total_size_is_lower_bound
    assert len(found.artifacts) == 2
    assert found.next_page_token
    # Paging on still reaches all eight, whatever the count said.
    seen = list(names(found))
    while found.next_page_token:
        found = await search(
            capped, tags_any=["nlp"], page_size=2, page_token=found.next_page_token
        )
        seen.extend(names(found))
    assert len(seen) == 8


async def test_total_within_the_limit_is_exact(capped: rsg.RegistryServiceStub) -> None:
    await library(capped)
    # Exactly the limit matches: exact, not a bound.
    found = await search(capped, types=[DATASET])
    assert (found.total_size, found.total_size_is_lower_bound) == (3, False)
    found = await search(capped, tags_all=["nlp", "text"])
    assert (found.total_size, found.total_size_is_lower_bound) == (1, False)
    found = await search(capped, query="nothing-like-this")
    assert (found.total_size, found.total_size_is_lower_bound) == (0, False)


async def test_facets_total_is_bounded_and_its_counts_exact(
    capped: rsg.RegistryServiceStub,
) -> None:
    await library(capped)
    answer = await capped.CountArtifactFacets(rs.CountArtifactFacetsRequest(tags_any=["nlp"]))
    assert (answer.total_size, answer.total_size_is_lower_bound) == (LIMIT, True)
    # The type and tag counts stay exact beyond the limit.
    assert {f.value: f.count for f in answer.types} == {
        "ARTIFACT_TYPE_MODEL": 5,
        "ARTIFACT_TYPE_DATASET": 3,
    }
    assert {f.value: f.count for f in answer.tags} == {"nlp": 8, "text": 1}
    answer = await capped.CountArtifactFacets(rs.CountArtifactFacetsRequest(types=[DATASET]))
    assert (answer.total_size, answer.total_size_is_lower_bound) == (3, False)


async def test_default_server_counts_exactly(registry: rsg.RegistryServiceStub) -> None:
    # The default limit (10,000) is far above a small library: exact totals.
    await library(registry)
    found = await search(registry, tags_any=["nlp"], page_size=2)
    assert (found.total_size, found.total_size_is_lower_bound) == (8, False)
