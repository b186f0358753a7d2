"""Page 1, the library, in a real browser: type, click facets, sort, page, go back."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect

from maestro.registry.v1 import artifact_pb2 as ap
from tests.web import seed
from tests.web.conftest import Maestro, check_page, sign_in


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def results(page: Page) -> list[str]:
    return page.locator(".artifact h3 a").all_inner_texts()


def test_search_as_you_type_with_facets_and_back(page: Page, maestro: Maestro) -> None:
    w = seed.word()
    origin = seed.project(maestro, f"origin-{w}")
    seed.artifact(
        maestro,
        f"{w}-churn",
        type=ap.ARTIFACT_TYPE_MODEL,
        tags=[f"{w}-nlp", "prod"],
        description=f"churn model {w}",
    )
    seed.artifact(
        maestro,
        f"{w}-reviews",
        type=ap.ARTIFACT_TYPE_DATASET,
        tags=[f"{w}-nlp"],
        description=f"reviews {w}",
    )
    used = seed.artifact(
        maestro,
        f"{w}-eda",
        type=ap.ARTIFACT_TYPE_NOTEBOOK,
        tags=["prod"],
        description=f"eda notebook {w}",
    )
    seed.use(maestro, used.id, origin.id, ap.USAGE_OUTCOME_HELPFUL)

    sign_in(page, maestro)
    heading = page.locator("#results-heading")
    search = page.get_by_label("Search the library")
    search.press_sequentially(w, delay=20)
    # No button pressed: the results follow the typing, and the URL holds the query.
    expect(heading).to_have_text(f"3 artifacts for “{w}”")
    assert query_of(page)["q"] == [w]
    # The facets count what the text finds: one of each type, two of each tag.
    expect(page.locator("label[for=type-model] .count")).to_have_text("1")
    expect(page.locator("label[for=type-dataset] .count")).to_have_text("1")
    expect(page.locator("label[for=type-config] .count")).to_have_text("0")
    expect(page.get_by_label(re.compile(rf"^{w}-nlp"))).to_be_visible()

    # The most impact first: only the used notebook has any.
    assert results(page)[0] == f"{w}-eda"
    page.get_by_label(re.compile(r"^model ")).check()
    expect(heading).to_have_text(f"1 artifact for “{w}”")
    assert results(page) == [f"{w}-churn"]
    assert query_of(page)["type"] == ["model"]
    # Another type widens (types are any-of); the counts ignore the type filter.
    page.get_by_label(re.compile(r"^dataset ")).check()
    expect(heading).to_have_text(f"2 artifacts for “{w}”")
    expect(page.locator("label[for=type-notebook] .count")).to_have_text("1")

    # A tag narrows (tags are all-of).
    page.get_by_label(re.compile(r"^prod ")).check()
    expect(heading).to_have_text(f"1 artifact for “{w}”")
    assert results(page) == [f"{w}-churn"]

    # Back, as a person would: the tag is unchecked again, the two types remain.
    page.go_back()
    expect(heading).to_have_text(f"2 artifacts for “{w}”")
    expect(page.get_by_label(re.compile(r"^prod "))).not_to_be_checked()
    expect(page.get_by_label(re.compile(r"^dataset "))).to_be_checked()
    page.go_back()
    expect(heading).to_have_text(f"1 artifact for “{w}”")

    # A shared URL opens the same search.
    shared = page.url
    other = page.context.new_page()
    other.goto(shared)
    expect(other.locator("#results-heading")).to_have_text(f"1 artifact for “{w}”")
    expect(other.get_by_label("Search the library")).to_have_value(w)
    other.close()
    check_page(page, f"library-{maestro.store}")


def test_minimum_impact_sort_and_pages(page: Page, maestro: Maestro) -> None:
    w = seed.word()
    user = seed.project(maestro, f"user-{w}")
    made = [
        seed.artifact(maestro, f"{w}-{n:02d}", description=f"batch {w}", tags=[w])
        for n in range(23)
    ]
    for n in range(3):
        seed.use(maestro, made[n].id, user.id, ap.USAGE_OUTCOME_HELPFUL)
    sign_in(page, maestro, f"/library?q={w}")
    heading = page.locator("#results-heading")
    expect(heading).to_have_text(f"23 artifacts for “{w}”")
    assert len(results(page)) == 20
    first_page = results(page)

    page.get_by_role("link", name="Next page").click()
    expect(page.locator(".artifact")).to_have_count(3)
    assert set(results(page)).isdisjoint(first_page)
    assert "page" in query_of(page)
    page.get_by_role("link", name="First page").click()
    expect(page.locator(".artifact")).to_have_count(20)

    # Newest first: the last one made leads.
    page.get_by_label("Sort by").select_option("recency")
    expect(page.locator(".artifact h3 a").first).to_have_text(f"{w}-22")
    assert query_of(page)["sort"] == ["recency"]
    page.get_by_label("Sort by").select_option("usage")
    expect(page.locator(".artifact .meta").first).to_contain_text("used 1 time")

    impact = page.get_by_label("Minimum impact")
    impact.fill("1")
    expect(heading).to_have_text(f"3 artifacts for “{w}”")
    assert sorted(results(page)) == [f"{w}-00", f"{w}-01", f"{w}-02"]
    # Out of range, the browser's own check holds the request back...
    impact.fill("200")
    assert impact.evaluate("e => e.validity.valid") is False
    expect(heading).to_have_text(f"3 artifacts for “{w}”")
    # ...and a hand-made URL is told what is wrong.
    page.goto(f"/library?q={w}&min_impact=lots")
    expect(page.get_by_role("alert")).to_contain_text("from 0 to 100")
    check_page(page, f"library-impact-{maestro.store}")
