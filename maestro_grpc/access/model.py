"""The Access context's records: roles, tokens, principals, audit events."""

from __future__ import annotations

import enum
import functools
import uuid
from dataclasses import dataclass, field
from datetime import datetime


class Role(enum.Enum):
    """What a token may do (the table in README's "Access control" says it in full)."""

    READER = "reader"
    WRITER = "writer"
    AGENT = "agent"
    ADMIN = "admin"


class Action(enum.Enum):
    """What an RPC does, for the permission table."""

    READ = "read"  # reads within the caller's projects
    LIBRARY_READ = "library_read"  # reads of the shared artifact library: any caller
    WRITE = "write"  # registry, metrics and experiment writes within the caller's projects
    INGEST = "ingest"  # StreamMetrics and RecordMetrics
    AGENT_READ = "agent_read"  # the reads a CI agent makes (readers and writers may too)
    SELF = "self"  # WhoAmI: any caller
    ADMIN = "admin"  # tokens, audit, training the meta-model


ALLOWED: dict[Role, frozenset[Action]] = {
    Role.READER: frozenset({Action.READ, Action.LIBRARY_READ, Action.AGENT_READ, Action.SELF}),
    Role.WRITER: frozenset(
        {
            Action.READ,
            Action.LIBRARY_READ,
            Action.AGENT_READ,
            Action.SELF,
            Action.WRITE,
            Action.INGEST,
        }
    ),
    Role.AGENT: frozenset({Action.INGEST, Action.AGENT_READ, Action.LIBRARY_READ, Action.SELF}),
    Role.ADMIN: frozenset(Action),
}


@dataclass(frozen=True)
class Token:
    """A token as the store keeps it (never its secret)."""

    id: uuid.UUID | None  # None: a static token of MAESTRO_AUTH_TOKENS
    name: str
    role: Role
    # The projects it is limited to; None: every project.
    project_ids: frozenset[uuid.UUID] | None
    secret_prefix: str
    creator: str
    create_time: datetime | None
    expire_time: datetime | None = None
    revoke_time: datetime | None = None
    last_use_time: datetime | None = None
    # The person of the directory it belongs to (None: no person).
    person_id: uuid.UUID | None = None

    @property
    def static(self) -> bool:
        return self.id is None

    def active(self, now: datetime) -> bool:
        if self.revoke_time is not None and self.revoke_time <= now:
            return False
        return self.expire_time is None or now < self.expire_time


@dataclass(frozen=True)
class Principal:
    """Who is calling: their token (None when the server needs no token at all)."""

    token: Token | None

    @property
    def name(self) -> str:
        return self.token.name if self.token is not None else ""

    @property
    def token_id(self) -> uuid.UUID | None:
        return self.token.id if self.token is not None else None

    @functools.cached_property
    def key(self) -> str:
        """Who this is, as per-caller limits count: a stored token by its id, a static
        one by its name, and the anonymous caller (no token needed) as one."""
        if self.token is None:
            return "anonymous"
        if self.token.id is None:
            return f"static:{self.token.name}"
        return f"token:{self.token.id}"

    @property
    def person_id(self) -> uuid.UUID | None:
        """The person of the directory calling (None: a service, or nobody named)."""
        return self.token.person_id if self.token is not None else None

    @property
    def projects(self) -> frozenset[uuid.UUID] | None:
        """The projects this caller may see; None: all of them."""
        return self.token.project_ids if self.token is not None else None

    def may(self, action: Action) -> bool:
        return self.token is None or action in ALLOWED[self.token.role]

    def covers(self, project_id: uuid.UUID) -> bool:
        scope = self.projects
        return scope is None or project_id in scope


# Nobody: the server needs no token (none exists and it listens on loopback only).
OPEN = Principal(token=None)


@dataclass(frozen=True)
class TokenFields:
    name: str
    role: Role
    project_ids: frozenset[uuid.UUID] | None
    expire_time: datetime | None
    person_id: uuid.UUID | None = None


@dataclass(frozen=True)
class NewToken:
    """A token just made, with its secret (shown once)."""

    token: Token
    secret: str


@dataclass(frozen=True)
class AuditEvent:
    id: uuid.UUID
    time: datetime
    token_id: uuid.UUID | None
    token_name: str
    method: str
    resources: tuple[str, ...]
    project_ids: tuple[uuid.UUID, ...]
    request_id: str
    code: str
    peer: str
    detail: str = ""


@dataclass
class AuditQuery:
    token_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    method: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None
    # Methods given by name alone match any service.
    method_suffix: bool = field(default=False)
