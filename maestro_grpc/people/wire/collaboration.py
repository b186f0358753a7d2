"""CollaborationService: comments, reviews, follows and the feed, as the caller's person."""

from __future__ import annotations

from collections.abc import AsyncIterator

from maestro.people.v1 import collaboration_service_pb2 as pb
from maestro_grpc.access import caller
from maestro_grpc.access.model import Action
from maestro_grpc.errors import InvalidArgument, Violations
from maestro_grpc.paging import Cursor, IdKind, KeyKind
from maestro_grpc.people.domain.activity import Activity, Reader
from maestro_grpc.people.domain.discussion import Discussion
from maestro_grpc.people.domain.webhooks import Webhooks
from maestro_grpc.people.model import CommentState, SubjectKind
from maestro_grpc.people.wire import collab_convert as convert
from maestro_grpc.people.wire.webhooks import WebhookHandlers
from maestro_grpc.wire import checks, pagetoken
from maestro_grpc.wire.context import Context
from maestro_grpc.wire.pagetoken import PageTokens
from maestro_grpc.wire.protoconv import request_fingerprint, require_uuid


def _reader() -> Reader:
    return Reader(caller.person(), caller.visible_projects(), caller.may(Action.ADMIN))


class CollaborationServicer(WebhookHandlers):
    def __init__(
        self, discussion: Discussion, activity: Activity, webhooks: Webhooks, pages: PageTokens
    ) -> None:
        self.discussion = discussion
        self.activity = activity
        self.webhooks = webhooks
        self.pages = pages

    async def CreateComment(
        self, request: pb.CreateCommentRequest, context: Context
    ) -> pb.CreateCommentResponse:
        v = Violations()
        c = request.comment
        kind = convert.kind_field(v, c.subject_kind, "comment.subject_kind", comments_only=True)
        subject = convert.uuid_in(v, c.subject_id, "comment.subject_id")
        parent = convert.uuid_in(v, c.parent_id, "comment.parent_id") if c.parent_id else None
        body = convert.body_field(v, c.body, "comment.body")
        checks.request_id(v, request.request_id)
        v.raise_if_any()
        made = await self.discussion.create(
            _reader(),
            kind,
            subject,
            parent,
            body,
            request_id=request.request_id,
            fingerprint=request_fingerprint(request),
        )
        return pb.CreateCommentResponse(comment=convert.comment_to_proto(made))

    async def UpdateComment(
        self, request: pb.UpdateCommentRequest, context: Context
    ) -> pb.UpdateCommentResponse:
        v = Violations()
        comment_id = convert.uuid_in(v, request.comment_id, "comment_id")
        body = convert.body_field(v, request.body, "body")
        v.raise_if_any()
        changed = await self.discussion.edit(_reader(), comment_id, body)
        return pb.UpdateCommentResponse(comment=convert.comment_to_proto(changed))

    async def DeleteComment(
        self, request: pb.DeleteCommentRequest, context: Context
    ) -> pb.DeleteCommentResponse:
        comment_id = require_uuid(request.comment_id, "comment_id")
        gone = await self.discussion.delete(_reader(), comment_id)
        return pb.DeleteCommentResponse(comment=convert.comment_to_proto(gone))

    async def ModerateComment(
        self, request: pb.ModerateCommentRequest, context: Context
    ) -> pb.ModerateCommentResponse:
        v = Violations()
        comment_id = convert.uuid_in(v, request.comment_id, "comment_id")
        state = convert.STATES.get(request.state)
        if state is None:
            v.add("state", "is required: COMMENT_STATE_VISIBLE, _HIDDEN or _DELETED")
        v.raise_if_any()
        assert isinstance(state, CommentState)
        changed = await self.discussion.moderate(comment_id, state)
        return pb.ModerateCommentResponse(comment=convert.comment_to_proto(changed))

    async def ListComments(
        self, request: pb.ListCommentsRequest, context: Context
    ) -> pb.ListCommentsResponse:
        v = Violations()
        kind = convert.kind_field(v, request.subject_kind, "subject_kind", comments_only=True)
        subject = convert.uuid_in(v, request.subject_id, "subject_id")
        v.raise_if_any()
        size = pagetoken.page_size(request.page_size)
        after = self.pages.decode("ListComments", request, request.page_token, key=KeyKind.TIME)
        found, cursor = await self.discussion.comments(
            _reader(), kind, subject, page_size=size, after=after
        )
        return pb.ListCommentsResponse(
            comments=[convert.comment_to_proto(c) for c in found],
            next_page_token=self.pages.encode("ListComments", request, cursor),
        )

    async def ReviewArtifact(
        self, request: pb.ReviewArtifactRequest, context: Context
    ) -> pb.ReviewArtifactResponse:
        v = Violations()
        r = request.review
        artifact_id = convert.uuid_in(v, r.artifact_id, "review.artifact_id")
        if not 1 <= r.rating <= 5:
            v.add("review.rating", "must be 1 to 5")
        text = convert.body_field(v, r.text, "review.text", required=False)
        v.raise_if_any()
        made = await self.discussion.review(_reader(), artifact_id, r.rating, text)
        return pb.ReviewArtifactResponse(review=convert.review_to_proto(made))

    async def ListReviews(
        self, request: pb.ListReviewsRequest, context: Context
    ) -> pb.ListReviewsResponse:
        artifact_id = require_uuid(request.artifact_id, "artifact_id")
        size = pagetoken.page_size(request.page_size)
        after = self.pages.decode("ListReviews", request, request.page_token, key=KeyKind.TIME)
        found, cursor, summary = await self.discussion.reviews(_reader(), artifact_id, size, after)
        return pb.ListReviewsResponse(
            reviews=[convert.review_to_proto(r) for r in found],
            next_page_token=self.pages.encode("ListReviews", request, cursor),
            average_rating=round(summary.average, 4),
            review_count=summary.count,
        )

    def _target(self, target: pb.FollowTarget) -> tuple[SubjectKind, str]:
        v = Violations()
        kind = convert.kind_field(v, target.kind, "target.kind")
        subject = convert.subject_field(v, kind, target.subject_id, "target.subject_id")
        v.raise_if_any()
        return kind, subject

    async def Follow(self, request: pb.FollowRequest, context: Context) -> pb.FollowResponse:
        if not request.HasField("target"):
            raise InvalidArgument.for_field("target", "is required")
        kind, subject = self._target(request.target)
        await self.activity.follow(_reader(), kind, subject)
        return pb.FollowResponse(
            target=pb.FollowTarget(kind=request.target.kind, subject_id=subject)
        )

    async def Unfollow(self, request: pb.UnfollowRequest, context: Context) -> pb.UnfollowResponse:
        if not request.HasField("target"):
            raise InvalidArgument.for_field("target", "is required")
        kind, subject = self._target(request.target)
        return pb.UnfollowResponse(
            was_following=await self.activity.unfollow(_reader(), kind, subject)
        )

    async def ListFollows(
        self, request: pb.ListFollowsRequest, context: Context
    ) -> pb.ListFollowsResponse:
        found = await self.activity.follows(_reader())
        return pb.ListFollowsResponse(targets=[convert.target_to_proto(t) for t in found])

    async def ListActivity(
        self, request: pb.ListActivityRequest, context: Context
    ) -> pb.ListActivityResponse:
        size = pagetoken.page_size(request.page_size)
        cursor = self.pages.decode(
            "ListActivity", request, request.page_token, key=KeyKind.COUNT, ids=IdKind.INT
        )
        page = await self.activity.feed(
            _reader(),
            page_size=size,
            before=int(cursor.key) if cursor is not None else None,
            unread_only=request.unread_only,
        )
        following = None if page.next_before is None else Cursor(page.next_before, "0")
        return pb.ListActivityResponse(
            events=[convert.event_to_proto(e) for e in page.events],
            next_page_token=self.pages.encode("ListActivity", request, following),
            unread_count=page.unread,
        )

    async def MarkActivityRead(
        self, request: pb.MarkActivityReadRequest, context: Context
    ) -> pb.MarkActivityReadResponse:
        if request.up_to_sequence < 0:
            raise InvalidArgument.for_field("up_to_sequence", "must not be negative")
        read, unread = await self.activity.mark_read(_reader(), request.up_to_sequence)
        return pb.MarkActivityReadResponse(read_sequence=read, unread_count=unread)

    async def WatchActivity(
        self, request: pb.WatchActivityRequest, context: Context
    ) -> AsyncIterator[pb.WatchActivityResponse]:
        if request.after_sequence < 0:
            raise InvalidArgument.for_field("after_sequence", "must not be negative")
        after = request.after_sequence if request.HasField("after_sequence") else None
        async for event in self.activity.watch(_reader(), after):
            yield pb.WatchActivityResponse(event=convert.event_to_proto(event))
