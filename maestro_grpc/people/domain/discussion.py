"""Comments (replies, @mentions, edits with history, deletion, moderation) and reviews.

Each comment's feed events (on its subject, to the parent's author, to each
person mentioned) commit in the comment's own transaction.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from maestro_grpc.paging import Cursor
from maestro_grpc.people.domain.activity import Activity, Reader
from maestro_grpc.people.model import (
    Comment,
    CommentState,
    NewComment,
    NewEvent,
    Review,
    ReviewSummary,
    SubjectKind,
    Target,
)
from maestro_grpc.people.store.discussion import DiscussionStore
from maestro_grpc.people.store.people import PeopleStore
from maestro_grpc.registry.read import RegistryReader

MENTION = re.compile(r"(?<![\w@.])@([a-z0-9][a-z0-9._-]{1,39})", re.IGNORECASE)
MAX_MENTIONS = 20


def _excerpt(body: str) -> str:
    line = " ".join(body.split())
    return line if len(line) <= 80 else line[:79] + "…"


def _comment_events(comment: Comment, target: Target, parent: Comment | None) -> list[NewEvent]:
    """A comment's events: on its subject (for followers), a reply to the parent's author,
    a mention to each person named (never to the author)."""
    me, excerpt = comment.author_person_id, _excerpt(comment.body)

    def event(kind: str, summary: str, *targets: Target) -> NewEvent:
        return NewEvent(
            kind,
            summary,
            targets,
            project_id=comment.project_id,
            artifact_id=comment.subject_id
            if comment.subject_kind is SubjectKind.ARTIFACT
            else None,
            comment_id=comment.id,
            actor_person_id=me,
        )

    made = [event("comment", f"comment: {excerpt}", target, Target("person", str(me)))]
    if parent is not None and parent.author_person_id != me:
        made.append(
            event(
                "reply",
                f"reply to your comment: {excerpt}",
                Target("inbox", str(parent.author_person_id)),
            )
        )
    made += [
        event("mention", f"you were mentioned: {excerpt}", Target("inbox", str(person)))
        for person in comment.mentioned
        if person != me
    ]
    return made


class Discussion:
    def __init__(
        self,
        store: DiscussionStore,
        people: PeopleStore,
        registry: RegistryReader,
        activity: Activity,
        *,
        clock: Clock = utcnow,
        reviewed: Callable[[uuid.UUID], None] = lambda artifact_id: None,
    ) -> None:
        # Told of each review once it committed (the registry's artifact cache).
        self.reviewed = reviewed
        self.store = store
        self.people = people
        self.registry = registry
        self.activity = activity
        self.clock = clock

    async def _subject(
        self, reader: Reader, kind: SubjectKind, subject_id: uuid.UUID
    ) -> tuple[uuid.UUID | None, Target]:
        """The project that decides who sees the subject, and its feed target."""
        if kind is SubjectKind.PROJECT:
            target = await self.activity.target_of(reader, kind, str(subject_id))
            return subject_id, target
        found = (await self.registry.artifacts([subject_id])).get(subject_id)
        if found is None:
            raise NotFound(f"artifact {subject_id} not found", reason="ARTIFACT_NOT_FOUND")
        if not reader.sees(found.origin_project_id):
            raise PermissionDenied(
                f"this token may not see artifact {subject_id}", reason="PROJECT_OUT_OF_SCOPE"
            )
        return found.origin_project_id, Target("artifact", found.name)

    async def _mentions(self, body: str) -> tuple[uuid.UUID, ...]:
        found: dict[uuid.UUID, None] = {}
        for handle in dict.fromkeys(m.lower().rstrip("._-") for m in MENTION.findall(body)):
            if len(found) >= MAX_MENTIONS:
                break
            person = await self.people.find(handle)
            if person is not None and person.active:
                found[person.id] = None
        return tuple(found)

    async def create(
        self,
        reader: Reader,
        kind: SubjectKind,
        subject_id: uuid.UUID,
        parent_id: uuid.UUID | None,
        body: str,
        *,
        request_id: str = "",
        fingerprint: str = "",
    ) -> Comment:
        me = reader.person()
        project_id, target = await self._subject(reader, kind, subject_id)
        parent = None
        if parent_id is not None:
            parent = await self.store.get(parent_id)
            if parent.subject_id != subject_id or parent.subject_kind is not kind:
                raise InvalidArgument.for_field(
                    "comment.parent_id", "is a comment on another subject"
                )
        new = NewComment(
            kind, subject_id, project_id, parent_id, me, body, await self._mentions(body)
        )

        def events(comment: Comment) -> list[NewEvent]:
            return _comment_events(comment, target, parent)

        comment, recorded = await self.store.create(
            new, self.clock(), events, request_id=request_id, fingerprint=fingerprint
        )
        self.activity.recorded(recorded)
        return comment

    async def edit(self, reader: Reader, comment_id: uuid.UUID, body: str) -> Comment:
        me = reader.person()

        def changes_for(current: Comment) -> dict[str, Any]:
            if current.author_person_id != me:
                raise PermissionDenied("only its author edits a comment", reason="NOT_AUTHOR")
            if current.state is CommentState.DELETED:
                raise FailedPrecondition("the comment was deleted", reason="COMMENT_DELETED")
            return {"body": body}

        found = await self.store.change(comment_id, changes_for, self.clock())
        mentioned = await self._mentions(body)
        if set(mentioned) != set(found.mentioned):
            found = await self.store.change(
                comment_id, lambda _c: {"mentioned": [str(m) for m in mentioned]}, self.clock()
            )
        return found

    async def delete(self, reader: Reader, comment_id: uuid.UUID) -> Comment:
        def changes_for(current: Comment) -> dict[str, Any]:
            if not reader.admin and current.author_person_id != reader.person():
                raise PermissionDenied(
                    "only its author or an admin deletes a comment", reason="NOT_AUTHOR"
                )
            return {"state": CommentState.DELETED, "body": ""}

        return await self.store.change(comment_id, changes_for, self.clock())

    async def moderate(self, comment_id: uuid.UUID, state: CommentState) -> Comment:
        changes: dict[str, Any] = {"state": state}
        if state is CommentState.DELETED:
            changes["body"] = ""
        return await self.store.change(comment_id, lambda _c: dict(changes), self.clock())

    async def comments(
        self,
        reader: Reader,
        kind: SubjectKind,
        subject_id: uuid.UUID,
        *,
        page_size: int,
        after: Cursor | None,
    ) -> tuple[list[Comment], Cursor | None]:
        await self._subject(reader, kind, subject_id)
        return await self.store.comments(
            kind, subject_id, include_hidden=reader.admin, page_size=page_size, after=after
        )

    # ---- reviews ------------------------------------------------------------------------

    async def review(
        self, reader: Reader, artifact_id: uuid.UUID, rating: int, text: str
    ) -> Review:
        me = reader.person()
        _project, target = await self._subject(reader, SubjectKind.ARTIFACT, artifact_id)

        def events(review: Review) -> list[NewEvent]:
            event = NewEvent(
                "review",
                f"rated {rating}/5: {_excerpt(text)}" if text else f"rated {rating}/5",
                (target, Target("person", str(me))),
                project_id=_project,
                artifact_id=artifact_id,
                actor_person_id=me,
            )
            return [event]

        review, recorded = await self.store.review(
            artifact_id, me, rating, text, self.clock(), events
        )
        self.reviewed(artifact_id)
        self.activity.recorded(recorded)
        return review

    async def reviews(
        self, reader: Reader, artifact_id: uuid.UUID, page_size: int, after: Cursor | None
    ) -> tuple[list[Review], Cursor | None, ReviewSummary]:
        await self._subject(reader, SubjectKind.ARTIFACT, artifact_id)
        return await self.store.reviews(artifact_id, page_size, after)
