"""The SQL of stored tokens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from maestro_grpc.access.model import Role, Token
from maestro_grpc.access.store.tables import access_tokens
from maestro_grpc.errors import FailedPrecondition, NotFound
from maestro_grpc.paging import Cursor, KeyKind
from maestro_grpc.store import idempotency
from maestro_grpc.store.db import Database
from maestro_grpc.store.idempotency import RequestKey
from maestro_grpc.store.keyset import Keyset

_NEWEST_FIRST = Keyset(
    key=access_tokens.c.create_time,
    id=access_tokens.c.id,
    key_kind=KeyKind.TIME,
    descending=True,
)


def _token(row: Any) -> Token:
    scope = row.project_ids
    return Token(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        project_ids=None if scope is None else frozenset(uuid.UUID(p) for p in scope),
        secret_prefix=row.secret_prefix,
        creator=row.creator,
        create_time=row.create_time,
        expire_time=row.expire_time,
        revoke_time=row.revoke_time,
        last_use_time=row.last_use_time,
        person_id=row.person_id,
    )


class TokenStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(
        self,
        token: Token,
        secret_sha256: str,
        now: datetime,
        *,
        request_id: str = "",
        fingerprint: str = "",
    ) -> tuple[Token, bool]:
        """Store `token`; (the stored token, whether this call made it)."""
        key = RequestKey("CreateToken", request_id, fingerprint) if request_id else None
        made = False

        async with self.db.write() as conn:

            async def create() -> uuid.UUID:
                nonlocal made
                assert token.id is not None
                await conn.execute(
                    access_tokens.insert().values(
                        id=token.id,
                        name=token.name,
                        role=token.role.value,
                        project_ids=None
                        if token.project_ids is None
                        else sorted(str(p) for p in token.project_ids),
                        secret_sha256=secret_sha256,
                        secret_prefix=token.secret_prefix,
                        creator=token.creator,
                        create_time=token.create_time,
                        expire_time=token.expire_time,
                        person_id=token.person_id,
                    )
                )
                made = True
                return token.id

            async def load(token_id: uuid.UUID) -> Token:
                row = (
                    await conn.execute(select(access_tokens).where(access_tokens.c.id == token_id))
                ).one()
                return _token(row)

            stored = await idempotency.create_once(conn, key, now, create, load)
        return stored, made

    async def insert_first_admin(self, token: Token, secret_sha256: str) -> None:
        """Store `token` unless an active admin token exists (FAILED_PRECONDITION), atomically."""
        now = token.create_time
        assert now is not None
        assert token.id is not None
        async with self.db.write() as conn:
            if conn.dialect.name == "postgresql":
                # Two bootstraps at once: the second waits here, then sees the first's.
                await conn.execute(select(func.pg_advisory_xact_lock(7261150002)))
            found = await conn.scalar(
                select(func.count()).select_from(access_tokens).where(_active_admin(now))
            )
            if found:
                raise FailedPrecondition(
                    "an admin token exists already: make more tokens with it "
                    "(maestro token create), or revoke it first",
                    reason="ADMIN_EXISTS",
                )
            await conn.execute(
                access_tokens.insert().values(
                    id=token.id,
                    name=token.name,
                    role=token.role.value,
                    project_ids=None,
                    secret_sha256=secret_sha256,
                    secret_prefix=token.secret_prefix,
                    creator=token.creator,
                    create_time=now,
                    expire_time=token.expire_time,
                )
            )

    async def by_secret(self, secret_sha256: str) -> Token | None:
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    select(access_tokens).where(access_tokens.c.secret_sha256 == secret_sha256)
                )
            ).first()
        return None if row is None else _token(row)

    async def get(self, token_id: uuid.UUID) -> Token:
        async with self.db.read() as conn:
            row = (
                await conn.execute(select(access_tokens).where(access_tokens.c.id == token_id))
            ).first()
        if row is None:
            raise NotFound(f"token {token_id} not found", reason="TOKEN_NOT_FOUND")
        return _token(row)

    async def list(
        self, *, page_size: int, after: Cursor | None, active_at: datetime | None
    ) -> tuple[list[Token], Cursor | None]:
        query = select(access_tokens)
        if active_at is not None:
            query = query.where(
                access_tokens.c.revoke_time.is_(None),
                or_(access_tokens.c.expire_time.is_(None), access_tokens.c.expire_time > active_at),
            )
        condition = _NEWEST_FIRST.after(after)
        if condition is not None:
            query = query.where(condition)
        query = query.order_by(*_NEWEST_FIRST.order_by()).limit(page_size + 1)
        async with self.db.read() as conn:
            rows = list(await conn.execute(query))
        items, cursor = _NEWEST_FIRST.page(
            rows, page_size, key_of=lambda r: r.create_time, id_of=lambda r: r.id
        )
        return [_token(r) for r in items], cursor

    async def revoke(self, token_id: uuid.UUID, now: datetime) -> Token:
        async with self.db.write() as conn:
            await conn.execute(
                update(access_tokens)
                .where(access_tokens.c.id == token_id, access_tokens.c.revoke_time.is_(None))
                .values(revoke_time=now)
            )
            row = (
                await conn.execute(select(access_tokens).where(access_tokens.c.id == token_id))
            ).first()
            if row is None:
                raise NotFound(f"token {token_id} not found", reason="TOKEN_NOT_FOUND")
        return _token(row)

    async def mark_used(self, used: Sequence[tuple[uuid.UUID, datetime]]) -> None:
        """Record last uses (only ever moving them forward)."""
        if not used:
            return
        async with self.db.write() as conn:
            for token_id, when in used:
                await conn.execute(
                    update(access_tokens)
                    .where(
                        access_tokens.c.id == token_id,
                        or_(
                            access_tokens.c.last_use_time.is_(None),
                            access_tokens.c.last_use_time < when,
                        ),
                    )
                    .values(last_use_time=when)
                )

    async def count(self) -> int:
        """How many tokens were ever stored (revoked and expired ones too)."""
        async with self.db.read() as conn:
            return int(await conn.scalar(select(func.count()).select_from(access_tokens)) or 0)

    async def active_admins(self, now: datetime) -> int:
        async with self.db.read() as conn:
            found = await conn.scalar(
                select(func.count()).select_from(access_tokens).where(_active_admin(now))
            )
        return int(found or 0)


def _active_admin(now: datetime) -> Any:
    return and_(
        access_tokens.c.role == Role.ADMIN.value,
        access_tokens.c.revoke_time.is_(None),
        or_(access_tokens.c.expire_time.is_(None), access_tokens.c.expire_time > now),
    )
