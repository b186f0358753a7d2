"""Authenticating callers: stored and static tokens, a per-replica cache, last use.

A check is cached per replica (the secret's hash -> the token), so a call
costs a dictionary lookup, not a query. A cached check is trusted only while
nothing could have changed it unseen: on PostgreSQL a trigger NOTIFYs every
token change and this replica drops the entry on arrival (`armed`); while
that feed is down (and on SQLite, single-process, where this replica makes
every change itself) an entry is trusted for at most `unarmed_ttl` seconds.
Expiry is checked on every call. Revocation and expiry thus take effect on
every replica within a second.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import datetime

from maestro_grpc import audit
from maestro_grpc.access.domain import secrets
from maestro_grpc.access.model import NewToken, Principal, Role, Token, TokenFields
from maestro_grpc.access.store.tokens import TokenStore
from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.errors import InvalidArgument, NotFound, Unauthenticated
from maestro_grpc.paging import Cursor

log = logging.getLogger("maestro.auth")

CACHE_ENTRIES = 10_000
UNARMED_TTL = 1.0
REFRESH_SECONDS = 1.0
ARMED_TTL = 300.0

ProjectCheck = Callable[[Collection[uuid.UUID]], Awaitable[set[uuid.UUID]]]
PersonCheck = Callable[[uuid.UUID], Awaitable[bool]]


async def _nobody(person_id: uuid.UUID) -> bool:
    return False


class StaticTokens:
    """MAESTRO_AUTH_TOKENS: admin tokens kept outside the store, as hashes only."""

    def __init__(self, tokens: Mapping[str, str]) -> None:
        # {secret: name} in, {hash: token} kept: the secrets are not kept.
        self._by_digest = {
            secrets.digest(secret): Token(
                id=None,
                name=name,
                role=Role.ADMIN,
                project_ids=None,
                secret_prefix=secrets.shown_prefix(secret),
                creator="MAESTRO_AUTH_TOKENS",
                create_time=None,
            )
            for secret, name in tokens.items()
        }
        self._principals = {d: Principal(token=t) for d, t in self._by_digest.items()}

    def __bool__(self) -> bool:
        return bool(self._by_digest)

    def find(self, digest: str) -> Token | None:
        return self._by_digest.get(digest)

    def principal(self, digest: str) -> Principal | None:
        """The principal of a static token's hash (made once: this is every call's path)."""
        return self._principals.get(digest)

    def all(self) -> list[Token]:
        return sorted(self._by_digest.values(), key=lambda t: t.name)


class Tokens:
    """Who a secret belongs to, and the tokens' life cycle."""

    def __init__(
        self,
        store: TokenStore,
        static: StaticTokens,
        *,
        existing_projects: ProjectCheck,
        person_exists: PersonCheck = _nobody,
        clock: Clock = utcnow,
        unarmed_ttl: float = UNARMED_TTL,
    ) -> None:
        self.store = store
        self.static = static
        self.existing_projects = existing_projects
        self.person_exists = person_exists
        self.clock = clock
        self.unarmed_ttl = unarmed_ttl
        self.armed = False
        # hash -> (principal or None for "unknown", monotonic time cached)
        self._cache: OrderedDict[str, tuple[Principal | None, float]] = OrderedDict()
        self._stored_exist = False
        self._checked = 0.0
        self._generation = 0
        self._used: dict[uuid.UUID, datetime] = {}
        self._ticks: dict[uuid.UUID, int] = {}
        self._flushed: dict[uuid.UUID, datetime] = {}

    # ---- whether tokens are needed -----------------------------------------------------

    async def refresh(self) -> None:
        """Learn whether the store holds any token (once one does, every call needs one)."""
        if not self._stored_exist:
            self._checked = time.monotonic()
            self._stored_exist = await self.store.count() > 0

    async def needed(self) -> bool:
        """Whether calls need a token; while none does, the store is asked again each second.

        (A token made out of band, by `maestro token bootstrap` beside a
        running server, closes the door within a second.)
        """
        if not self.required and time.monotonic() - self._checked >= REFRESH_SECONDS:
            await self.refresh()
        return self.required

    @property
    def required(self) -> bool:
        return bool(self.static) or self._stored_exist

    # ---- authentication ----------------------------------------------------------------

    async def authenticate(self, secret: str) -> Principal:
        """The principal of `secret`; UNAUTHENTICATED if it is unknown, expired or revoked."""
        digest = secrets.digest(secret)
        static = self.static.principal(digest)
        if static is not None:
            return static
        principal = await self._stored(digest)
        token = principal.token if principal is not None else None
        if principal is None or token is None:
            raise Unauthenticated("invalid token", reason="INVALID_TOKEN")
        if token.revoke_time is not None:
            raise Unauthenticated("the token was revoked", reason="TOKEN_REVOKED")
        if token.expire_time is not None and token.expire_time <= self.clock():
            raise Unauthenticated("the token has expired", reason="TOKEN_EXPIRED")
        assert token.id is not None
        self._note_use(token.id)
        return principal

    async def _stored(self, digest: str) -> Principal | None:
        cached = self._cache.get(digest)
        ttl = ARMED_TTL if self.armed else self.unarmed_ttl
        if cached is not None and time.monotonic() - cached[1] < ttl:
            self._cache.move_to_end(digest)
            return cached[0]
        generation = self._generation
        token = await self.store.by_secret(digest)
        principal = None if token is None else Principal(token=token)
        if generation == self._generation:
            self._cache[digest] = (principal, time.monotonic())
            self._cache.move_to_end(digest)
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return principal

    def forget(self, token_id: uuid.UUID | None = None) -> None:
        """Drop cached checks (one token's, or all): a change was made or may have been missed."""
        self._generation += 1
        if token_id is None:
            self._cache.clear()
            return
        for digest, (principal, _) in list(self._cache.items()):
            if principal is None or principal.token_id == token_id:
                del self._cache[digest]

    def arm(self) -> None:
        self.forget()
        self.armed = True

    def disarm(self) -> None:
        self.armed = False
        self.forget()

    def on_change(self, payload: str) -> None:
        """A token changed (the change feed's payload is its id)."""
        self._stored_exist = True
        try:
            self.forget(uuid.UUID(payload))
        except ValueError:
            self.forget()

    # ---- last use --------------------------------------------------------------------

    def _note_use(self, token_id: uuid.UUID) -> None:
        # At most one clock reading per token and (monotonic) minute: this
        # runs on every authenticated call.
        tick = int(time.monotonic() // 60)
        if self._ticks.get(token_id) == tick:
            return
        self._ticks[token_id] = tick
        minute = self.clock().replace(second=0, microsecond=0)
        if self._flushed.get(token_id) != minute:
            self._used[token_id] = minute

    async def flush_uses(self) -> int:
        """Write the last uses noted since the previous flush (at most one per token a minute)."""
        used, self._used = self._used, {}
        if used:
            await self.store.mark_used(sorted(used.items(), key=lambda kv: str(kv[0])))
            self._flushed.update(used)
        return len(used)

    async def run_flusher(self, every: float = 30.0) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.flush_uses()
            except Exception as error:  # the store is down: try again next time
                log.warning("could not record token uses: %s", error)

    # ---- life cycle --------------------------------------------------------------------

    async def create(
        self,
        fields: TokenFields,
        creator: Principal,
        *,
        request_id: str = "",
        fingerprint: str = "",
    ) -> NewToken:
        now = self.clock()
        if fields.expire_time is not None and fields.expire_time <= now:
            raise InvalidArgument.for_field("expire_time", "must be in the future")
        if fields.project_ids:
            missing = set(fields.project_ids) - await self.existing_projects(fields.project_ids)
            if missing:
                raise NotFound(
                    f"no project {', '.join(sorted(map(str, missing)))}",
                    reason="PROJECT_NOT_FOUND",
                )
        if fields.person_id is not None and not await self.person_exists(fields.person_id):
            raise NotFound(f"no person {fields.person_id}", reason="PERSON_NOT_FOUND")
        secret = secrets.new_secret()
        token = Token(
            id=uuid.uuid4(),
            name=fields.name,
            role=fields.role,
            project_ids=fields.project_ids,
            secret_prefix=secrets.shown_prefix(secret),
            creator=_creator(creator),
            create_time=now,
            expire_time=fields.expire_time,
            person_id=fields.person_id,
        )
        assert token.id is not None
        audit.touch("tokens", token.id)
        for project_id in fields.project_ids or ():
            audit.touch("projects", project_id, project_id)
        stored, made = await self.store.insert(
            token, secrets.digest(secret), now, request_id=request_id, fingerprint=fingerprint
        )
        self._stored_exist = True
        self.forget()
        return NewToken(token=stored, secret=secret if made else "")

    async def bootstrap(self, name: str = "bootstrap-admin") -> NewToken:
        """The first admin token, straight into the store; refused once an admin token exists."""
        now = self.clock()
        secret = secrets.new_secret()
        token = Token(
            id=uuid.uuid4(),
            name=name,
            role=Role.ADMIN,
            project_ids=None,
            secret_prefix=secrets.shown_prefix(secret),
            creator="bootstrap",
            create_time=now,
        )
        assert token.id is not None
        audit.touch("tokens", token.id)
        await self.store.insert_first_admin(token, secrets.digest(secret))
        self._stored_exist = True
        return NewToken(token=token, secret=secret)

    async def list(
        self, *, page_size: int, after: Cursor | None, include_inactive: bool
    ) -> tuple[list[Token], Cursor | None]:
        return await self.store.list(
            page_size=page_size, after=after, active_at=None if include_inactive else self.clock()
        )

    async def revoke(self, token_id: uuid.UUID) -> Token:
        audit.touch("tokens", token_id)
        token = await self.store.revoke(token_id, self.clock())
        self.forget(token_id)
        return token

    async def get(self, token_id: uuid.UUID) -> Token:
        return await self.store.get(token_id)


def _creator(principal: Principal) -> str:
    token = principal.token
    if token is None:
        return "loopback (no token)"
    if token.id is None:
        return f"{token.name} (static)"
    return f"{token.name} ({token.id})"
