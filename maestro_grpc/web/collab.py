"""People, discussion and the feed in the UI: profiles, comments and reviews on project
and artifact pages, follow buttons, and a feed page that updates live (server-sent events
fed by WatchActivity, each event's id its sequence, so a reconnecting browser resumes)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import grpc.aio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from maestro.people.v1 import collaboration_service_pb2 as cpb
from maestro.people.v1 import people_service_pb2 as ppb
from maestro_grpc.web.client import maybe, metadata, unloaded
from maestro_grpc.web.markdown import to_html
from maestro_grpc.web.security import CSRF_FIELD, csrf_ok, session_token
from maestro_grpc.web.views import backend, forbidden, not_found_page, render

KEEPALIVE_SECONDS = 15.0
SHOWN = 100
KINDS = {"project": cpb.SUBJECT_KIND_PROJECT, "artifact": cpb.SUBJECT_KIND_ARTIFACT}
FOLLOWABLE = {**KINDS, "person": cpb.SUBJECT_KIND_PERSON, "tag": cpb.SUBJECT_KIND_TAG}
ACTIVITY_LABEL = {
    value: name.removeprefix("ACTIVITY_KIND_").replace("_", " ").lower()
    for name, value in cpb.ActivityKind.items()
}


def _kw(request: Request) -> dict[str, Any]:
    return {"metadata": metadata(session_token(request)), "timeout": backend(request).timeout}


async def _optional(call: Any) -> Any:
    """What a page can do without: also None when the caller has no person."""
    return await maybe(call, grpc.StatusCode.FAILED_PRECONDITION)


async def _names(request: Request, person_ids: set[str]) -> dict[str, str]:
    people = backend(request).people
    found = await asyncio.gather(
        *(
            _optional(people.GetPerson(ppb.GetPersonRequest(person_id=p), **_kw(request)))
            for p in person_ids
            if p
        )
    )
    return {f.person.id: f.person.display_name for f in found if f}


async def discussion(request: Request, kind: str, subject_id: str) -> dict[str, Any]:
    """The context the `_discussion.html` partial needs (and, for an artifact, reviews)."""
    collab = backend(request).collaboration
    comments, reviews = await asyncio.gather(
        _optional(
            collab.ListComments(
                cpb.ListCommentsRequest(
                    subject_kind=KINDS[kind], subject_id=subject_id, page_size=SHOWN
                ),
                **_kw(request),
            )
        ),
        _optional(
            collab.ListReviews(
                cpb.ListReviewsRequest(artifact_id=subject_id, page_size=SHOWN), **_kw(request)
            )
        )
        if kind == "artifact"
        else asyncio.sleep(0),
    )
    listed = list(comments.comments) if comments else []
    authors = {c.author_person_id for c in listed} | {
        r.person_id for r in (reviews.reviews if reviews else [])
    }
    return {
        "discussion": {
            "kind": kind,
            "subject_id": subject_id,
            "comments": [(c, to_html(c.body)) for c in listed],
            "reviews": reviews,
            "review_html": {r.id: to_html(r.text) for r in (reviews.reviews if reviews else [])},
            "names": await _names(request, authors),
            "unloaded": unloaded(comments=comments, reviews=reviews),
        }
    }


def _back(request: Request, fallback: str) -> str:
    target = request.headers.get("referer", "")
    origin = f"{request.url.scheme}://{request.url.netloc}/"
    return target if target.startswith(origin) else fallback


async def post_comment(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form.get(CSRF_FIELD)):
        return forbidden(request)
    kind, subject = str(form.get("kind", "")), str(form.get("subject_id", ""))
    if kind not in KINDS:
        return not_found_page(request)
    await backend(request).collaboration.CreateComment(
        cpb.CreateCommentRequest(
            comment=cpb.Comment(
                subject_kind=KINDS[kind],
                subject_id=subject,
                parent_id=str(form.get("parent_id", "")),
                body=str(form.get("body", "")),
            )
        ),
        **_kw(request),
    )
    return RedirectResponse(_back(request, f"/{kind}s/{subject}") + "#discussion", 303)


async def post_review(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form.get(CSRF_FIELD)):
        return forbidden(request)
    artifact_id = str(form.get("artifact_id", ""))
    rating = str(form.get("rating", "0"))
    await backend(request).collaboration.ReviewArtifact(
        cpb.ReviewArtifactRequest(
            review=cpb.Review(
                artifact_id=artifact_id,
                rating=int(rating) if rating.isdigit() else 0,
                text=str(form.get("text", "")),
            )
        ),
        **_kw(request),
    )
    return RedirectResponse(_back(request, f"/artifacts/{artifact_id}") + "#reviews", 303)


async def post_follow(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form.get(CSRF_FIELD)):
        return forbidden(request)
    kind = str(form.get("kind", ""))
    if kind not in FOLLOWABLE:
        return not_found_page(request)
    target = cpb.FollowTarget(kind=FOLLOWABLE[kind], subject_id=str(form.get("subject_id", "")))
    await backend(request).collaboration.Follow(cpb.FollowRequest(target=target), **_kw(request))
    return RedirectResponse(_back(request, "/feed"), 303)


async def person_page(request: Request) -> Response:
    person_id = request.path_params["person_id"]
    profile = await backend(request).people.GetPersonProfile(
        ppb.GetPersonProfileRequest(person_id=person_id), **_kw(request)
    )
    return render(request, "person.html", {"profile": profile, "level": ppb.SkillLevel.Name})


async def feed_page(request: Request) -> Response:
    found = await backend(request).collaboration.ListActivity(
        cpb.ListActivityRequest(page_size=SHOWN), **_kw(request)
    )
    latest = found.events[0].sequence if found.events else 0
    return render(
        request,
        "feed.html",
        {"feed": found, "latest": latest, "label": lambda k: ACTIVITY_LABEL.get(k, "event")},
    )


async def mark_read(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form.get(CSRF_FIELD)):
        return forbidden(request)
    await backend(request).collaboration.MarkActivityRead(
        cpb.MarkActivityReadRequest(), **_kw(request)
    )
    return RedirectResponse("/feed", 303)


def _after(request: Request) -> int:
    raw = request.headers.get("last-event-id", "") or request.query_params.get("after", "")
    return int(raw) if raw.isdigit() else 0


def _encode(event: cpb.ActivityEvent) -> str:
    data = json.dumps(
        {
            "kind": ACTIVITY_LABEL.get(event.kind, "event"),
            "summary": event.summary,
            "time": event.create_time.ToJsonString(),
        },
        separators=(",", ":"),
    )
    return f"id: {event.sequence}\nevent: activity\ndata: {data}\n\n"


async def feed_live(request: Request) -> Response:
    call = backend(request).collaboration.WatchActivity(
        cpb.WatchActivityRequest(after_sequence=_after(request)),
        metadata=metadata(session_token(request)),
    )

    async def events() -> AsyncIterator[str]:
        try:
            yield "event: ready\ndata: {}\n\n"
            reading = asyncio.ensure_future(call.read())
            while True:
                done, _ = await asyncio.wait({reading}, timeout=KEEPALIVE_SECONDS)
                if not done:
                    yield ": keepalive\n\n"
                    continue
                message = reading.result()
                if not isinstance(message, cpb.WatchActivityResponse):
                    return
                yield _encode(message.event)
                reading = asyncio.ensure_future(call.read())
        except grpc.aio.AioRpcError:
            return
        finally:
            call.cancel()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )
