"""Comments, reviews, follows and the feed through a real server with tokens, on both stores."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import grpc

from maestro.access.v1 import access_service_pb2 as ac
from maestro.people.v1 import collaboration_service_pb2 as cs
from maestro.people.v1 import collaboration_service_pb2_grpc as csg
from maestro.people.v1 import people_service_pb2 as ps
from maestro.people.v1 import people_service_pb2_grpc as psg
from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from tests.access.conftest import ROLES, Secured, bearer
from tests.helpers import error_info, expect_error, expect_invalid

PROJECT, ARTIFACT, TAG = cs.SUBJECT_KIND_PROJECT, cs.SUBJECT_KIND_ARTIFACT, cs.SUBJECT_KIND_TAG


@dataclass
class Someone:
    person: ps.Person
    secret: str

    @property
    def md(self) -> tuple[tuple[str, str], ...]:
        return bearer(self.secret)


async def someone(secured: Secured, handle: str, role: str = "writer", *projects: str) -> Someone:
    people = psg.PeopleServiceStub(secured.channel)
    made = await people.CreatePerson(
        ps.CreatePersonRequest(
            person=ps.Person(display_name=handle.title(), email=f"{handle}@x.org", handle=handle)
        ),
        metadata=bearer(secured.admin),
    )
    token = await secured.access.CreateToken(
        ac.CreateTokenRequest(
            name=handle, role=ROLES[role], project_ids=projects, person_id=made.person.id
        ),
        metadata=bearer(secured.admin),
    )
    return Someone(made.person, token.secret)


def collab(secured: Secured) -> csg.CollaborationServiceStub:
    return csg.CollaborationServiceStub(secured.channel)


async def comment(
    secured: Secured, who: Someone, kind: int, subject: str, body: str, parent: str = ""
) -> cs.Comment:
    made = await collab(secured).CreateComment(
        cs.CreateCommentRequest(
            comment=cs.Comment(subject_kind=kind, subject_id=subject, body=body, parent_id=parent)  # type: ignore[arg-type]
        ),
        metadata=who.md,
    )
    return made.comment


async def artifact(
    secured: Secured, name: str, version: str, origin: str, *tags: str
) -> ap.Artifact:
    made = await secured.registry.CreateArtifact(
        rs.CreateArtifactRequest(
            artifact=ap.Artifact(
                name=name,
                version=version,
                type=ap.ARTIFACT_TYPE_MODEL,
                origin_project_id=origin,
                tags=tags,
            )
        ),
        metadata=bearer(secured.admin),
    )
    return made.artifact


async def feed(secured: Secured, who: Someone, **query: object) -> cs.ListActivityResponse:
    return await collab(secured).ListActivity(cs.ListActivityRequest(**query), metadata=who.md)  # type: ignore[arg-type]


async def test_comments_replies_mentions_edits_and_moderation(secured: Secured) -> None:
    churn = await secured.project("churn")
    ada = await someone(secured, "ada")
    bob = await someone(secured, "bob")
    first = await comment(secured, ada, PROJECT, churn, "What about **drift**, @bob?")
    assert first.author_person_id == ada.person.id
    assert list(first.mentioned_person_ids) == [bob.person.id]
    reply = await comment(secured, bob, PROJECT, churn, "Looking at it.", parent=first.id)
    assert reply.parent_id == first.id

    api = collab(secured)
    edited = await api.UpdateComment(
        cs.UpdateCommentRequest(comment_id=first.id, body="What about drift?"), metadata=ada.md
    )
    assert edited.comment.body == "What about drift?"
    assert [e.body for e in edited.comment.edits] == ["What about **drift**, @bob?"]
    error = await expect_error(
        api.UpdateComment(
            cs.UpdateCommentRequest(comment_id=first.id, body="mine"), metadata=bob.md
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert error_info(error).reason == "NOT_AUTHOR"
    await expect_error(
        api.DeleteComment(cs.DeleteCommentRequest(comment_id=first.id), metadata=bob.md),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    gone = await api.DeleteComment(cs.DeleteCommentRequest(comment_id=reply.id), metadata=bob.md)
    assert gone.comment.state == cs.COMMENT_STATE_DELETED
    assert gone.comment.body == ""

    # Moderation: an admin hides it; readers no longer see it, the admin does.
    await expect_error(
        api.ModerateComment(
            cs.ModerateCommentRequest(comment_id=first.id, state=cs.COMMENT_STATE_HIDDEN),
            metadata=ada.md,
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    await api.ModerateComment(
        cs.ModerateCommentRequest(comment_id=first.id, state=cs.COMMENT_STATE_HIDDEN),
        metadata=bearer(secured.admin),
    )
    listing = cs.ListCommentsRequest(subject_kind=PROJECT, subject_id=churn)
    seen = await api.ListComments(listing, metadata=bob.md)
    assert [(c.id, c.state) for c in seen.comments] == [(reply.id, cs.COMMENT_STATE_DELETED)]
    seen = await api.ListComments(listing, metadata=bearer(secured.admin))
    assert [c.id for c in seen.comments] == [first.id, reply.id]


async def test_comment_refusals(secured: Secured) -> None:
    churn = await secured.project("churn")
    hidden = await secured.project("hidden")
    ada = await someone(secured, "ada", "reader", churn)
    api = collab(secured)
    found = await expect_invalid(
        api.CreateComment(
            cs.CreateCommentRequest(comment=cs.Comment(subject_kind=TAG, subject_id="x", body="")),
            metadata=ada.md,
        ),
        "comment.body",
    )
    assert {"comment.subject_kind", "comment.subject_id", "comment.body"} <= set(found)
    await expect_error(
        comment(secured, ada, PROJECT, hidden, "hello"), grpc.StatusCode.PERMISSION_DENIED
    )
    nobody, _ = await secured.token("writer")
    error = await expect_error(
        api.CreateComment(
            cs.CreateCommentRequest(
                comment=cs.Comment(subject_kind=PROJECT, subject_id=churn, body="hi")
            ),
            metadata=bearer(nobody),
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert error_info(error).reason == "PERSON_REQUIRED"


async def test_one_review_per_person_and_version(secured: Secured) -> None:
    churn = await secured.project("churn")
    model = await artifact(secured, "churn-model", "1", churn)
    ada = await someone(secured, "ada")
    bob = await someone(secured, "bob")
    api = collab(secured)
    for who, rating in ((ada, 2), (bob, 5), (ada, 4)):
        await api.ReviewArtifact(
            cs.ReviewArtifactRequest(
                review=cs.Review(artifact_id=model.id, rating=rating, text="ok")
            ),
            metadata=who.md,
        )
    listed = await api.ListReviews(cs.ListReviewsRequest(artifact_id=model.id), metadata=ada.md)
    assert listed.review_count == 2
    assert listed.average_rating == 4.5
    assert sorted(r.rating for r in listed.reviews) == [4, 5]
    # Shown with the artifact, in Get and in search results.
    got = await secured.registry.GetArtifact(
        rs.GetArtifactRequest(artifact_id=model.id), metadata=ada.md
    )
    assert (got.artifact.review_average, got.artifact.review_count) == (4.5, 2)
    found = await secured.registry.SearchArtifacts(
        rs.SearchArtifactsRequest(query="churn"), metadata=ada.md
    )
    assert [(a.id, a.review_average, a.review_count) for a in found.artifacts] == [
        (model.id, 4.5, 2)
    ]
    await expect_invalid(
        api.ReviewArtifact(
            cs.ReviewArtifactRequest(review=cs.Review(artifact_id=model.id, rating=6)),
            metadata=ada.md,
        ),
        "review.rating",
    )


async def test_feed_from_follows_mentions_and_replies(secured: Secured) -> None:
    churn = await secured.project("churn")
    fraud = await secured.project("fraud")
    ada = await someone(secured, "ada")
    bob = await someone(secured, "bob")
    carol = await someone(secured, "carol", "reader", churn)
    api = collab(secured)
    v1 = await artifact(secured, "churn-model", "1", churn)
    for who in (bob, carol):
        await api.Follow(
            cs.FollowRequest(target=cs.FollowTarget(kind=ARTIFACT, subject_id=v1.id)),
            metadata=who.md,
        )
        await api.Follow(
            cs.FollowRequest(target=cs.FollowTarget(kind=TAG, subject_id="NLP")), metadata=who.md
        )
    follows = await api.ListFollows(cs.ListFollowsRequest(), metadata=bob.md)
    assert [(t.kind, t.subject_id) for t in follows.targets] == [
        (ARTIFACT, "churn-model"),
        (TAG, "nlp"),
    ]
    await artifact(secured, "churn-model", "2", churn)  # a new version of what they follow
    await artifact(
        secured, "tagger", "1", fraud, "nlp"
    )  # a tag both follow; carol cannot see fraud
    made = await comment(secured, ada, PROJECT, churn, "@bob, see v2")
    await comment(secured, bob, PROJECT, churn, "thanks", parent=made.id)

    bobs = await feed(secured, bob)
    assert [(e.kind, e.summary) for e in bobs.events] == [
        (cs.ACTIVITY_KIND_MENTION, "you were mentioned: @bob, see v2"),
        (cs.ACTIVITY_KIND_ARTIFACT_VERSION, "tagger 1 was registered"),
        (cs.ACTIVITY_KIND_ARTIFACT_VERSION, "churn-model 2 was registered"),
    ]
    assert bobs.unread_count == 3
    adas = await feed(secured, ada)
    assert [e.kind for e in adas.events] == [cs.ACTIVITY_KIND_REPLY]
    carols = await feed(secured, carol)
    assert [e.summary for e in carols.events] == ["churn-model 2 was registered"]

    # Pages, then read marks.
    first = await feed(secured, bob, page_size=2)
    rest = await feed(secured, bob, page_size=2, page_token=first.next_page_token)
    assert [e.sequence for e in [*first.events, *rest.events]] == [e.sequence for e in bobs.events]
    assert not rest.next_page_token
    marked = await api.MarkActivityRead(
        cs.MarkActivityReadRequest(up_to_sequence=bobs.events[1].sequence), metadata=bob.md
    )
    assert marked.unread_count == 1
    assert [e.read for e in (await feed(secured, bob)).events] == [False, True, True]
    assert len((await feed(secured, bob, unread_only=True)).events) == 1
    await api.Unfollow(
        cs.UnfollowRequest(target=cs.FollowTarget(kind=TAG, subject_id="nlp")), metadata=bob.md
    )
    await artifact(secured, "tagger", "2", fraud, "nlp")
    assert (await feed(secured, bob)).events[0].summary != "tagger 2 was registered"


async def test_watch_activity_streams_new_events(secured: Secured) -> None:
    churn = await secured.project("churn")
    ada = await someone(secured, "ada")
    bob = await someone(secured, "bob")
    api = collab(secured)
    await api.Follow(
        cs.FollowRequest(target=cs.FollowTarget(kind=PROJECT, subject_id=churn)), metadata=bob.md
    )
    await comment(secured, ada, PROJECT, churn, "kick-off")
    start = (await feed(secured, bob)).events[0].sequence
    # Resuming after an event: what came since comes from the store, the rest live.
    stream = api.WatchActivity(cs.WatchActivityRequest(after_sequence=start - 1), metadata=bob.md)
    first: cs.WatchActivityResponse = await asyncio.wait_for(stream.read(), 10)  # type: ignore[arg-type]
    assert first.event.summary == "comment: kick-off"
    await secured.registry.UpdateProject(
        rs.UpdateProjectRequest(project=pp.Project(id=churn, status=pp.PROJECT_STATUS_ACTIVE)),
        metadata=bearer(secured.admin),
    )
    second: cs.WatchActivityResponse = await asyncio.wait_for(stream.read(), 10)  # type: ignore[arg-type]
    stream.cancel()
    assert second.event.kind == cs.ACTIVITY_KIND_PROJECT_STATUS
    assert second.event.summary == "churn is now active"
    assert second.event.sequence > first.event.sequence
