"""The audit scope of the call being served: who, what, and which resources it touched.

The auth interceptor opens a scope for every call it lets through; the
domain names what a write touches (`touch`); the store appends the call's
audit event inside the same write transaction (`store/db.py`), so a write
and its record commit together or not at all. A call that writes in several
transactions has one event, completed by each. Code that runs outside a call
(workers, the change feeds) has no scope and is not audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class AuditScope:
    method: str
    request_id: str
    peer: str
    token_id: uuid.UUID | None
    token_name: str
    resources: list[str] = field(default_factory=list)
    project_ids: set[uuid.UUID] = field(default_factory=set)
    # Set once the event is in the store; later writes of the call extend it.
    event_id: uuid.UUID | None = None
    # Off for a call whose writes are audited by their own code (metrics'
    # group commits, which write many callers' batches in one transaction).
    automatic: bool = True


@dataclass(frozen=True)
class Denial:
    """A refused call, recorded on its own (nothing else of the call was written)."""

    time: datetime
    scope: AuditScope
    code: str
    detail: str


_current: ContextVar[AuditScope | None] = ContextVar("maestro_audit_scope", default=None)


def current() -> AuditScope | None:
    return _current.get()


@contextmanager
def scope(value: AuditScope | None) -> Iterator[AuditScope | None]:
    """Serve a call (or, with None, run code) under `value`."""
    token = _current.set(value)
    try:
        yield value
    finally:
        # A stream that the loop finalizes (its client left while it waited at
        # a yield) closes in a task and a context of its own: nothing to restore.
        with suppress(ValueError):
            _current.reset(token)


def touch(kind: str, resource_id: uuid.UUID | str, project_id: uuid.UUID | None = None) -> None:
    """Name a resource the current call writes ("projects", id); nothing outside a call."""
    found = _current.get()
    if found is None:
        return
    name = f"{kind}/{resource_id}"
    if name not in found.resources:
        found.resources.append(name)
    if project_id is not None:
        found.project_ids.add(project_id)
