"""The SQL of comments (with their edit history) and reviews; each method one transaction."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc import audit
from maestro_grpc.errors import NotFound
from maestro_grpc.paging import Cursor, KeyKind
from maestro_grpc.people.model import (
    Comment,
    CommentEdit,
    CommentState,
    NewComment,
    NewEvent,
    Review,
    ReviewSummary,
    SubjectKind,
)
from maestro_grpc.people.store.activity import record_in
from maestro_grpc.people.store.tables import comment_edits, comments, reviews
from maestro_grpc.store.db import Database
from maestro_grpc.store.dialect import insert, uuid_in
from maestro_grpc.store.idempotency import RequestKey, create_once
from maestro_grpc.store.keyset import Keyset

OLDEST_FIRST = Keyset(key=comments.c.create_time, id=comments.c.id, key_kind=KeyKind.TIME)
NEWEST_REVIEWS = Keyset(
    key=reviews.c.update_time, id=reviews.c.id, key_kind=KeyKind.TIME, descending=True
)


async def _edits(
    conn: AsyncConnection, ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[CommentEdit, ...]]:
    found: dict[uuid.UUID, list[CommentEdit]] = defaultdict(list)
    if ids:
        rows = await conn.execute(
            select(comment_edits)
            .where(comment_edits.c.comment_id.in_(ids))
            .order_by(comment_edits.c.comment_id, comment_edits.c.edit_number)
        )
        for r in rows:
            found[r.comment_id].append(CommentEdit(r.body, r.edit_time))
    return {k: tuple(v) for k, v in found.items()}


def _comment(row: Any, edits: dict[uuid.UUID, tuple[CommentEdit, ...]]) -> Comment:
    return Comment(
        id=row.id,
        subject_kind=SubjectKind(row.subject_kind),
        subject_id=row.subject_id,
        project_id=row.project_id,
        parent_id=row.parent_id,
        author_person_id=row.author_person_id,
        body=row.body,
        mentioned=tuple(uuid.UUID(m) for m in row.mentioned or ()),
        state=CommentState(row.state),
        edits=edits.get(row.id, ()),
        create_time=row.create_time,
        update_time=row.update_time,
    )


async def _load(conn: AsyncConnection, comment_id: uuid.UUID) -> Comment:
    row = (await conn.execute(select(comments).where(comments.c.id == comment_id))).first()
    if row is None:
        raise NotFound(f"comment {comment_id} not found", reason="COMMENT_NOT_FOUND")
    return _comment(row, await _edits(conn, [comment_id]))


def _review(row: Any) -> Review:
    return Review(
        row.id,
        row.artifact_id,
        row.person_id,
        row.rating,
        row.text,
        row.create_time,
        row.update_time,
    )


class DiscussionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, comment_id: uuid.UUID) -> Comment:
        async with self.db.read() as conn:
            return await _load(conn, comment_id)

    async def create(
        self,
        new: NewComment,
        now: datetime,
        events_for: Callable[[Comment], list[NewEvent]],
        *,
        request_id: str = "",
        fingerprint: str = "",
    ) -> tuple[Comment, list[int]]:
        """Store `new` and the feed events `events_for(comment)` in one transaction; the
        comment and the events' sequences."""
        key = RequestKey("CreateComment", request_id, fingerprint)
        seqs: list[int] = []
        async with self.db.write() as conn:

            async def insert_comment() -> uuid.UUID:
                comment_id = uuid.uuid4()
                await conn.execute(
                    comments.insert().values(
                        id=comment_id,
                        subject_kind=new.subject_kind.value,
                        subject_id=new.subject_id,
                        project_id=new.project_id,
                        parent_id=new.parent_id,
                        author_person_id=new.author_person_id,
                        body=new.body,
                        mentioned=[str(m) for m in new.mentioned],
                        state=CommentState.VISIBLE.value,
                        create_time=now,
                        update_time=now,
                    )
                )
                audit.touch("comments", comment_id, new.project_id)
                made = await _load(conn, comment_id)
                seqs.extend(await record_in(conn, events_for(made), now))
                return comment_id

            comment = await create_once(conn, key, now, insert_comment, lambda i: _load(conn, i))
        return comment, seqs

    async def change(
        self,
        comment_id: uuid.UUID,
        changes_for: Callable[[Comment], dict[str, Any]],
        now: datetime,
    ) -> Comment:
        """Apply `changes_for(current)` (the domain's checks, then the new values); a new
        body keeps the old one in the history."""
        async with self.db.write() as conn:
            current = await _load(conn, comment_id)
            values = changes_for(current)
            if "body" in values and values["body"] != current.body:
                await conn.execute(
                    comment_edits.insert().values(
                        comment_id=comment_id,
                        edit_number=len(current.edits) + 1,
                        body=current.body,
                        edit_time=now,
                    )
                )
            if "state" in values:
                values["state"] = values["state"].value
            await conn.execute(
                update(comments)
                .where(comments.c.id == comment_id)
                .values(**values, update_time=now)
            )
            audit.touch("comments", comment_id, current.project_id)
            return await _load(conn, comment_id)

    async def comments(
        self,
        kind: SubjectKind,
        subject_id: uuid.UUID,
        *,
        include_hidden: bool,
        page_size: int,
        after: Cursor | None,
    ) -> tuple[list[Comment], Cursor | None]:
        query = select(comments).where(
            comments.c.subject_kind == kind.value, comments.c.subject_id == subject_id
        )
        if not include_hidden:
            query = query.where(comments.c.state != CommentState.HIDDEN.value)
        beyond = OLDEST_FIRST.after(after)
        if beyond is not None:
            query = query.where(beyond)
        query = query.order_by(*OLDEST_FIRST.order_by()).limit(page_size + 1)
        async with self.db.read() as conn:
            rows = list(await conn.execute(query))
            page, cursor = OLDEST_FIRST.page(
                rows, page_size, key_of=lambda r: r.create_time, id_of=lambda r: r.id
            )
            edits = await _edits(conn, [r.id for r in page])
        return [_comment(r, edits) for r in page], cursor

    # ---- reviews ------------------------------------------------------------------------

    async def review(
        self,
        artifact_id: uuid.UUID,
        person_id: uuid.UUID,
        rating: int,
        text: str,
        now: datetime,
        events_for: Callable[[Review], list[NewEvent]],
    ) -> tuple[Review, list[int]]:
        """The person's review of the version: made, or replaced (one per person)."""
        async with self.db.write() as conn:
            statement = insert(conn, reviews).values(
                id=uuid.uuid4(),
                artifact_id=artifact_id,
                person_id=person_id,
                rating=rating,
                text=text,
                create_time=now,
                update_time=now,
            )
            statement = statement.on_conflict_do_update(
                index_elements=[reviews.c.artifact_id, reviews.c.person_id],
                set_={"rating": rating, "text": text, "update_time": now},
            )
            await conn.execute(statement)
            row = (
                await conn.execute(
                    select(reviews).where(
                        reviews.c.artifact_id == artifact_id, reviews.c.person_id == person_id
                    )
                )
            ).one()
            made = _review(row)
            audit.touch("reviews", made.id)
            return made, await record_in(conn, events_for(made), now)

    async def reviews(
        self, artifact_id: uuid.UUID, page_size: int, after: Cursor | None
    ) -> tuple[list[Review], Cursor | None, ReviewSummary]:
        query = select(reviews).where(reviews.c.artifact_id == artifact_id)
        beyond = NEWEST_REVIEWS.after(after)
        if beyond is not None:
            query = query.where(beyond)
        query = query.order_by(*NEWEST_REVIEWS.order_by()).limit(page_size + 1)
        summary_query = select(func.avg(reviews.c.rating), func.count()).where(
            reviews.c.artifact_id == artifact_id
        )
        async with self.db.read() as conn:
            rows = list(await conn.execute(query))
            average, count = (await conn.execute(summary_query)).one()
        page, cursor = NEWEST_REVIEWS.page(
            rows, page_size, key_of=lambda r: r.update_time, id_of=lambda r: r.id
        )
        return [_review(r) for r in page], cursor, ReviewSummary(float(average or 0.0), count)

    async def summaries(
        self, artifact_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[float, int]]:
        if not artifact_ids:
            return {}
        # One parameter for the ids (not one each): a search page asks for 51,
        # and a statement of one shape is compiled and prepared once.
        query = (
            select(reviews.c.artifact_id, func.avg(reviews.c.rating), func.count())
            .where(
                uuid_in(reviews.c.artifact_id, sorted(set(artifact_ids), key=str), self.db.dialect)
            )
            .group_by(reviews.c.artifact_id)
        )
        async with self.db.read() as conn:
            return {a: (float(avg), int(n)) for a, avg, n in await conn.execute(query)}
