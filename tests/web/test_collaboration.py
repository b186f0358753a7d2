"""People, discussion and the feed in a real browser: a comment with an XSS attempt stays
text, a review shows its average, a person's profile, and a feed page that updates live."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from maestro.access.v1 import access_service_pb2 as ac
from maestro.access.v1 import access_service_pb2_grpc as acg
from maestro.people.v1 import collaboration_service_pb2 as cs
from maestro.people.v1 import collaboration_service_pb2_grpc as csg
from maestro.people.v1 import people_service_pb2 as ps
from maestro.people.v1 import people_service_pb2_grpc as psg
from tests.web import seed
from tests.web.conftest import Maestro, check_page

XSS = (
    "<script>window.pwned = 1</script> **bold** [click](javascript:window.pwned=1) "
    '<img src=x onerror="window.pwned=1"> [docs](https://example.com/docs)'
)


def someone(maestro: Maestro, handle: str) -> tuple[ps.Person, list[tuple[str, str]]]:
    """A person of the directory, and the metadata of a token that names them."""
    channel: Any = maestro._channel
    # The generated stubs are typed for grpc.aio; these calls are the sync ones.
    people: Any = psg.PeopleServiceStub(channel)
    access: Any = acg.AccessServiceStub(channel)
    person: ps.Person = people.CreatePerson(
        ps.CreatePersonRequest(
            person=ps.Person(display_name=handle.title(), email=f"{handle}@web.test", handle=handle)
        ),
        metadata=maestro.auth,
    ).person
    made = access.CreateToken(
        ac.CreateTokenRequest(name=handle, role=ac.ROLE_WRITER, person_id=person.id),
        metadata=maestro.auth,
    )
    return person, [("authorization", f"Bearer {made.secret}")]


def sign_in_as(page: Page, secret: str, path: str) -> None:
    page.goto(path)
    page.wait_for_url("**/signin**")
    page.get_by_label("Access token").fill(secret)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{path}*")


def test_discussion_reviews_profile_and_a_live_feed(page: Page, maestro: Maestro) -> None:
    w = seed.word()
    project = seed.project(maestro, f"churn-{w}")
    model = seed.artifact(maestro, f"model-{w}", "1", origin_project_id=project.id)
    ada, ada_md = someone(maestro, f"ada{w}")
    _bob, bob_md = someone(maestro, f"bob{w}")
    sign_in_as(page, ada_md[0][1].removeprefix("Bearer "), f"/projects/{project.id}")

    # A comment with an XSS attempt: the Markdown renders, the script does not.
    page.get_by_label("Comment (Markdown; @handle mentions)").fill(XSS)
    page.get_by_role("button", name="Post comment").click()
    body = page.locator(".comment-body").first
    expect(body.locator("strong")).to_have_text("bold")
    expect(body).to_contain_text("<script>window.pwned = 1</script>")
    assert body.locator("script, img").count() == 0
    assert body.locator("a[href^='javascript']").count() == 0
    expect(body.locator("a[href='https://example.com/docs']")).to_have_attribute(
        "rel", "noopener noreferrer nofollow"
    )
    assert page.evaluate("window.pwned") is None
    page.get_by_role("button", name="Follow this project").click()

    # A review on the artifact page.
    page.goto(f"/artifacts/{model.id}")
    page.get_by_label("Rating").select_option("4")
    page.get_by_label("Review (Markdown)").fill("Solid *baseline*.")
    page.get_by_role("button", name="Review this version").click()
    expect(page.locator("#average-rating")).to_have_text("4.0")
    expect(page.locator("#review-count")).to_have_text("1")
    expect(page.locator(".review-body em")).to_have_text("baseline")
    page.goto(f"/library?q=model-{w}")
    expect(page.locator(".rating").first).to_have_text("rated 4.0 (1 review)")

    # The profile.
    page.goto(f"/people/{ada.id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(ada.display_name)
    expect(page.locator("#allocation")).to_have_text("0.00")
    check_page(page, "person")

    # The feed, live: Bob comments on the project Ada follows, and it appears.
    page.goto("/feed")
    expect(page.locator("#feed-status")).to_have_text("(live)")
    channel: Any = maestro._channel
    csg.CollaborationServiceStub(channel).CreateComment(
        cs.CreateCommentRequest(
            comment=cs.Comment(
                subject_kind=cs.SUBJECT_KIND_PROJECT,
                subject_id=project.id,
                body=f"@{ada.handle} have a look",
            )
        ),
        metadata=bob_md,
    )
    expect(page.locator("#feed .summary").first).to_contain_text("have a look")
    expect(page.locator("#feed .activity")).to_have_count(2)  # the comment, and the mention
    check_page(page, "feed")
