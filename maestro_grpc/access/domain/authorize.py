"""Authorising a call: may this principal do this, on these projects?

The wire layer's permission table (`access/wire/permissions.py`) turns a
request into a `Need`: the action and the ids it names. Here the ids become
projects (an artifact's origin project, a membership's project) and each is
checked against the caller's scope. An id outside the scope is refused
whether or not it exists, before any handler runs, so a refusal never tells
a caller whether someone else's project exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field

from maestro_grpc.access.model import Action, Principal
from maestro_grpc.errors import PermissionDenied

Resolve = Callable[[Collection[uuid.UUID]], Awaitable[Mapping[uuid.UUID, uuid.UUID | None]]]


@dataclass(frozen=True)
class Need:
    """What a call needs: its action and the resources it names."""

    action: Action
    projects: frozenset[uuid.UUID] = frozenset()
    # Resources whose project decides (for writes): artifacts by origin,
    # memberships by their project.
    artifacts: frozenset[uuid.UUID] = frozenset()
    members: frozenset[uuid.UUID] = frozenset()
    # The call acts on the whole organisation (creating a project or an
    # experiment, an artifact of no project): only an unscoped token may.
    organisation: bool = False


@dataclass(frozen=True)
class Granted:
    """What the check found: the projects the call acts on (for the audit log)."""

    projects: frozenset[uuid.UUID] = field(default_factory=frozenset)


def denied(detail: str, reason: str = "PERMISSION_DENIED") -> PermissionDenied:
    return PermissionDenied(detail, reason=reason)


NOTHING = Granted()


class Authorizer:
    def __init__(self, *, artifact_origins: Resolve, member_projects: Resolve) -> None:
        self.artifact_origins = artifact_origins
        self.member_projects = member_projects

    async def check(self, principal: Principal, need: Need) -> Granted:
        if not principal.may(need.action):
            raise self._role_denied(principal, need)
        if principal.projects is None and not (need.artifacts or need.members):
            # Every project: the role decided (every call of an unscoped token).
            return Granted(projects=need.projects) if need.projects else NOTHING
        return await self._scoped(principal, need)

    @staticmethod
    def _role_denied(principal: Principal, need: Need) -> PermissionDenied:
        role = principal.token.role.value if principal.token else "none"
        return denied(
            f"a {role} token may not call this method ({need.action.value})",
            reason="ROLE_NOT_ALLOWED",
        )

    async def _scoped(self, principal: Principal, need: Need) -> Granted:
        scope = principal.projects
        projects = set(need.projects)
        projects |= await self._artifact_projects(need.artifacts, scoped=scope is not None)
        projects |= await self._member_projects(need.members, scoped=scope is not None)
        if scope is not None:
            if need.organisation:
                raise denied(
                    "this token is limited to some projects; this call acts on the whole "
                    "organisation",
                    reason="PROJECT_OUT_OF_SCOPE",
                )
            outside = sorted((p for p in projects if p not in scope), key=str)
            if outside:
                raise denied(
                    f"this token may not act on project {outside[0]}",
                    reason="PROJECT_OUT_OF_SCOPE",
                )
        return Granted(projects=frozenset(projects))

    async def _artifact_projects(
        self, artifacts: frozenset[uuid.UUID], *, scoped: bool
    ) -> set[uuid.UUID]:
        """The origin projects of the artifacts a write names."""
        if not artifacts:
            return set()
        origins = await self.artifact_origins(artifacts)
        found: set[uuid.UUID] = set()
        for artifact_id in artifacts:
            if artifact_id not in origins:
                # No such live artifact: the handler says NOT_FOUND (the library is open).
                continue
            origin = origins[artifact_id]
            if origin is not None:
                found.add(origin)
            elif scoped:
                raise denied(
                    f"artifact {artifact_id} belongs to no project: only a token of every "
                    "project may change it",
                    reason="PROJECT_OUT_OF_SCOPE",
                )
        return found

    async def _member_projects(
        self, members: frozenset[uuid.UUID], *, scoped: bool
    ) -> set[uuid.UUID]:
        """The projects of the memberships a write names."""
        if not members:
            return set()
        owners = await self.member_projects(members)
        found: set[uuid.UUID] = set()
        for member_id in members:
            owner = owners.get(member_id)
            if owner is not None:
                found.add(owner)
            elif scoped:  # unknown to a scoped caller: do not say so
                raise denied(
                    f"this token may not act on membership {member_id}",
                    reason="PROJECT_OUT_OF_SCOPE",
                )
        return found
