"""The SQL of the directory: people and their skills, each method one transaction."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from maestro_grpc import audit
from maestro_grpc.errors import AlreadyExists, NotFound
from maestro_grpc.paging import Cursor, KeyKind
from maestro_grpc.people.model import PeopleQuery, Person, PersonFields, PersonSkill, SkillLevel
from maestro_grpc.people.store.tables import people, person_skills
from maestro_grpc.store.db import Database
from maestro_grpc.store.idempotency import RequestKey, create_once
from maestro_grpc.store.keyset import Keyset

BY_HANDLE = Keyset(key=people.c.handle, id=people.c.id, key_kind=KeyKind.TEXT)


def _conflict(error: IntegrityError) -> Exception:
    text = str(error.orig)
    if "email" in text:
        return AlreadyExists("a person with that e-mail exists", reason="PERSON_EMAIL_EXISTS")
    if "handle" in text:
        return AlreadyExists("a person with that handle exists", reason="PERSON_HANDLE_EXISTS")
    return error


async def _skills_of(
    conn: AsyncConnection, ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, tuple[PersonSkill, ...]]:
    found: dict[uuid.UUID, list[PersonSkill]] = defaultdict(list)
    if ids:
        rows = await conn.execute(
            select(person_skills)
            .where(person_skills.c.person_id.in_(list(ids)))
            .order_by(person_skills.c.person_id, person_skills.c.position)
        )
        for row in rows:
            found[row.person_id].append(PersonSkill(row.skill, SkillLevel(row.level)))
    return {pid: tuple(skills) for pid, skills in found.items()}


def _person(row: Any, skills: dict[uuid.UUID, tuple[PersonSkill, ...]]) -> Person:
    return Person(
        id=row.id,
        display_name=row.display_name,
        email=row.email,
        handle=row.handle,
        skills=skills.get(row.id, ()),
        time_zone=row.time_zone,
        active=row.active,
        create_time=row.create_time,
        update_time=row.update_time,
    )


async def _load(conn: AsyncConnection, person_id: uuid.UUID) -> Person:
    row = (await conn.execute(select(people).where(people.c.id == person_id))).first()
    if row is None:
        raise NotFound(f"person {person_id} not found", reason="PERSON_NOT_FOUND")
    return _person(row, await _skills_of(conn, [person_id]))


async def _write_skills(
    conn: AsyncConnection, person_id: uuid.UUID, skills: Sequence[PersonSkill]
) -> None:
    await conn.execute(delete(person_skills).where(person_skills.c.person_id == person_id))
    if skills:
        await conn.execute(
            person_skills.insert(),
            [
                {"person_id": person_id, "skill": s.skill, "level": int(s.level), "position": i}
                for i, s in enumerate(skills)
            ],
        )


class PeopleStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, fields: PersonFields, now: datetime, *, request_id: str = "", fingerprint: str = ""
    ) -> Person:
        key = RequestKey("CreatePerson", request_id, fingerprint)
        try:
            async with self.db.write() as conn:

                async def insert() -> uuid.UUID:
                    person_id = uuid.uuid4()
                    await conn.execute(
                        people.insert().values(
                            id=person_id,
                            display_name=fields.display_name,
                            email=fields.email,
                            handle=fields.handle,
                            time_zone=fields.time_zone,
                            active=True,
                            create_time=now,
                            update_time=now,
                        )
                    )
                    await _write_skills(conn, person_id, fields.skills)
                    audit.touch("people", person_id)
                    return person_id

                return await create_once(
                    conn, key, now, insert, lambda person_id: _load(conn, person_id)
                )
        except IntegrityError as error:
            raise _conflict(error) from None

    async def get(self, person_id: uuid.UUID) -> Person:
        async with self.db.read() as conn:
            return await _load(conn, person_id)

    async def update(self, person_id: uuid.UUID, changes: dict[str, Any], now: datetime) -> Person:
        skills = changes.pop("skills", None)
        try:
            async with self.db.write() as conn:
                await _load(conn, person_id)
                await conn.execute(
                    update(people)
                    .where(people.c.id == person_id)
                    .values(**changes, update_time=now)
                )
                if skills is not None:
                    await _write_skills(conn, person_id, skills)
                audit.touch("people", person_id)
                return await _load(conn, person_id)
        except IntegrityError as error:
            raise _conflict(error) from None

    async def search(self, query: PeopleQuery, limit: int, after: Cursor | None) -> list[Person]:
        """Up to `limit` people matching `query` (but availability), by handle after `after`."""
        statement = select(people)
        if not query.include_inactive:
            statement = statement.where(people.c.active.is_(True))
        least = int(query.min_level) if query.min_level is not None else 0
        for skill in query.skills:
            statement = statement.where(
                exists().where(
                    person_skills.c.person_id == people.c.id,
                    person_skills.c.skill == skill,
                    person_skills.c.level >= least,
                )
            )
        beyond = BY_HANDLE.after(after)
        if beyond is not None:
            statement = statement.where(beyond)
        statement = statement.order_by(*BY_HANDLE.order_by()).limit(limit)
        async with self.db.read() as conn:
            rows = list(await conn.execute(statement))
            skills = await _skills_of(conn, [r.id for r in rows])
        return [_person(r, skills) for r in rows]

    async def find(self, ref: str) -> Person | None:
        """The person `ref` names: their id, e-mail or handle (any case), or None."""
        ref = ref.strip()
        try:
            condition = people.c.id == uuid.UUID(ref)
        except ValueError:
            column = people.c.email if "@" in ref.strip("@") else people.c.handle
            condition = column == ref.lower().lstrip("@")
        async with self.db.read() as conn:
            row = (await conn.execute(select(people).where(condition))).first()
            if row is None:
                return None
            return _person(row, await _skills_of(conn, [row.id]))
