"""Page 2, an artifact, in a real browser: from a search to its page, its history and content."""

from __future__ import annotations

import hashlib
import re

from playwright.sync_api import Page, expect

from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from tests.web import seed
from tests.web.conftest import Maestro, check_page, sign_in


def test_open_an_artifact_read_its_history_and_download_it(page: Page, maestro: Maestro) -> None:
    w = seed.word()
    origin = seed.project(maestro, f"vision-{w}", labels={"team": w})
    helped = seed.project(maestro, f"retail-{w}", labels={"team": w})
    harmed = seed.project(maestro, f"ads-{w}")
    old = seed.artifact(
        maestro, f"{w}-resnet", "1.0.0", tags=["vision", w], origin_project_id=origin.id
    )
    current = seed.artifact(
        maestro,
        f"{w}-resnet",
        "2.0.0",
        tags=["vision", w],
        origin_project_id=origin.id,
        description=f"resnet for shelves {w}",
        creator="ada",
        meta={"framework": "torch", "metrics": {"top1": 0.91}},
    )
    content = b"weights " * 5000
    seed.upload(maestro, current.id, content)
    seed.use(
        maestro,
        current.id,
        helped.id,
        ap.USAGE_OUTCOME_HELPFUL,
        user="bob",
        purpose="shelf detection",
    )
    seed.use(
        maestro, current.id, harmed.id, ap.USAGE_OUTCOME_HARMFUL, user="eve", purpose="ad images"
    )
    seed.use(maestro, current.id, origin.id, ap.USAGE_OUTCOME_HELPFUL, user="ada")
    # What the retail project reused, for "projects like yours used".
    companion = seed.artifact(
        maestro, f"{w}-labels", tags=["vision", w], type=ap.ARTIFACT_TYPE_DATASET
    )
    seed.use(maestro, companion.id, helped.id, ap.USAGE_OUTCOME_HELPFUL)
    maestro.registry.UpdateProjectSuccess(
        rs.UpdateProjectSuccessRequest(
            project_id=helped.id, success=pp.ProjectSuccess(succeeded=True, score=0.9)
        ),
        metadata=maestro.auth,
    )

    sign_in(page, maestro, f"/library?q={w}-resnet&sort=recency")
    page.get_by_role("link", name=f"{w}-resnet").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{w}-resnet 2.0.0")
    assert page.url.endswith(f"/artifacts/{current.id}")

    # Its versions, newest first, this one marked; the older one is a link.
    versions = page.get_by_role("table").first
    expect(versions.locator("tbody tr")).to_have_count(2)
    expect(versions.locator("tbody tr").first).to_contain_text("2.0.0 (this one)")
    # Tags, origin, metadata, impact and the usages that moved it.
    expect(page.get_by_role("list", name="Tags")).to_contain_text("vision")
    expect(page.get_by_text(f"Produced by project vision-{w}")).to_be_visible()
    expect(page.locator("pre.metadata")).to_contain_text('"framework": "torch"')
    expect(page.locator("#impact-heading + p")).not_to_have_text("0.0 of 100")
    expect(page.get_by_text("Used 3 times: 1 harmful, 2 helpful.")).to_be_visible()
    usages = page.locator("table").nth(1)
    expect(usages).to_contain_text(f"retail-{w}")
    expect(usages).to_contain_text("shelf detection")
    expect(usages.locator(".outcome-harmful")).to_have_text("harmful")

    # The content, as a browser downloads it.
    with page.expect_download() as waiting:
        page.get_by_role("link", name=re.compile(r"^Download")).click()
    download = waiting.value
    assert download.suggested_filename == f"{w}-resnet-2.0.0"
    path = download.path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == hashlib.sha256(content).hexdigest()

    # Projects like the chosen one used: the retail project's dataset, with its reasons.
    page.get_by_label("For project").select_option(label=f"vision-{w}")
    page.get_by_role("button", name="Recommend").click()
    recs = page.locator("ol.recs")
    expect(recs).to_contain_text(f"{w}-labels")
    expect(recs.locator(".reasons").first).to_contain_text("%")
    check_page(page, f"artifact-{maestro.store}")

    # The older version is one click away.
    page.get_by_role("link", name="1.0.0", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{w}-resnet 1.0.0")
    expect(page.get_by_text("No content uploaded.")).to_be_visible()
    assert old.id in page.url


def test_an_unknown_artifact_is_a_readable_not_found(page: Page, maestro: Maestro) -> None:
    sign_in(page, maestro)
    answer = page.goto("/artifacts/00000000-0000-4000-8000-000000000000")
    assert answer is not None
    assert answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    answer = page.goto("/artifacts/not-a-uuid")
    assert answer is not None
    assert answer.status == 404
    check_page(page, f"not-found-{maestro.store}")


def test_the_impact_score_says_what_moved_it(page: Page, maestro: Maestro) -> None:
    w = seed.word()
    won = seed.project(maestro, f"won-{w}")
    open_ = seed.project(maestro, f"open-{w}")
    maestro.registry.UpdateProjectSuccess(
        rs.UpdateProjectSuccessRequest(
            project_id=won.id, success=pp.ProjectSuccess(succeeded=True, score=1.0)
        ),
        metadata=maestro.auth,
    )
    scored = seed.artifact(maestro, f"{w}-scored")
    seed.use(maestro, scored.id, open_.id, ap.USAGE_OUTCOME_HARMFUL, purpose="broke it")
    seed.use(maestro, scored.id, won.id, ap.USAGE_OUTCOME_HELPFUL, purpose="shipped it")
    parts = {
        u.purpose: u.impact
        for u in maestro.registry.ListArtifactUsages(
            rs.ListArtifactUsagesRequest(artifact_id=scored.id), metadata=maestro.auth
        ).artifact_usages
    }

    sign_in(page, maestro, f"/artifacts/{scored.id}")
    movers = page.get_by_role("list", name="What moved it")
    # The helpful use by the project that succeeded (1.0 x 1.5) moved it most,
    # up; the harmful one took points away.
    expect(movers.locator("li")).to_have_count(2)
    first, second = movers.locator("li").first, movers.locator("li").nth(1)
    expect(first).to_contain_text(
        f"{parts['shipped it'].points:+.1f} added by a helpful use by won-{w}"
    )
    expect(first).to_contain_text("project 1.50")
    expect(second).to_contain_text(
        f"{parts['broke it'].points:+.1f} taken away by a harmful use by open-{w}"
    )
    assert parts["broke it"].points < 0
    # The points add up to the score shown.
    shown = float(page.locator("#impact-score").inner_text())
    assert abs(sum(p.points for p in parts.values()) - shown) < 0.1
    history = page.locator("table").nth(1)
    expect(history.locator("tbody tr").first).to_contain_text(f"{parts['shipped it'].points:+.1f}")
    check_page(page, f"artifact-impact-{maestro.store}")
