"""The library page when the server stops counting: "5+ artifacts", in a real browser.

This module's server counts matches no further than 5
(MAESTRO_SEARCH_COUNT_LIMIT), so a few artifacts show what a million do on a
server with the default limit ("10,000+ artifacts"). The page only renders
what SearchArtifacts answers, the same on either store: SQLite only here;
tests/registry/test_search_count.py holds the totals on both stores.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from maestro.registry.v1 import artifact_pb2 as ap
from tests.web import seed
from tests.web.conftest import Maestro, running_maestro, sign_in


@pytest.fixture(scope="module")
def maestro(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Maestro]:
    with running_maestro(
        "sqlite",
        request,
        tmp_path_factory.mktemp("library-bound"),
        MAESTRO_SEARCH_COUNT_LIMIT="5",
    ) as running:
        yield running


def test_a_total_beyond_the_limit_shows_a_plus(page: Page, maestro: Maestro) -> None:
    w = seed.word()
    for i in range(7):
        kind = ap.ARTIFACT_TYPE_MODEL if i < 6 else ap.ARTIFACT_TYPE_DATASET
        seed.artifact(maestro, f"{w}-{i}", type=kind, description=f"model {w}")
    sign_in(page, maestro)
    heading = page.locator("#results-heading")
    page.get_by_label("Search the library").press_sequentially(w, delay=20)
    # Seven match, more than the server counts: a floor, said as one.
    expect(heading).to_have_text(f"5+ artifacts for “{w}”")
    expect(page.locator(".artifact")).to_have_count(7)
    # Within the limit the total is exact again.
    page.goto(f"/library?q={w}&type=dataset")
    expect(heading).to_have_text(f"1 artifact for “{w}”")
