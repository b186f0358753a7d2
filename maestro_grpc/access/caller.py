"""Who the current call is from: what other contexts' wire layers ask of Access.

The auth interceptor sets the principal of each call it lets through. A
servicer asks `visible_projects()` to filter a list to the caller's
projects, and `require(project_id)` where only the handler knows the
project (a stream's rows, an upload's artifact).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar

from maestro_grpc.access.model import OPEN, Action, Principal
from maestro_grpc.errors import PermissionDenied

_current: ContextVar[Principal] = ContextVar("maestro_principal", default=OPEN)


def current() -> Principal:
    """The caller (OPEN, who may do anything, when the server needs no token)."""
    return _current.get()


@contextmanager
def acting_as(principal: Principal) -> Iterator[Principal]:
    token = _current.set(principal)
    try:
        yield principal
    finally:
        # A stream that the loop finalizes (its client left while it waited at
        # a yield) closes in a task and a context of its own: nothing to restore.
        with suppress(ValueError):
            _current.reset(token)


def person() -> uuid.UUID | None:
    """The person of the directory the caller's token belongs to (None: no person)."""
    return _current.get().person_id


def visible_projects() -> frozenset[uuid.UUID] | None:
    """The projects the caller may see; None: every project."""
    return _current.get().projects


def allows(project_id: uuid.UUID | None) -> bool:
    """Whether the caller may act on `project_id` (None: a resource of no project)."""
    scope = _current.get().projects
    if scope is None:
        return True
    return project_id is not None and project_id in scope


def require(project_id: uuid.UUID | None, what: str = "project") -> None:
    """PERMISSION_DENIED unless the caller may act on `project_id`."""
    if not allows(project_id):
        shown = f"{what} {project_id}" if project_id is not None else f"a {what} of no project"
        raise PermissionDenied(f"this token may not act on {shown}", reason="PROJECT_OUT_OF_SCOPE")


def may(action: Action) -> bool:
    return _current.get().may(action)
