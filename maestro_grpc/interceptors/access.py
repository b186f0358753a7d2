"""Authentication and authorisation of every call, and the audit scope it runs under.

For each call but health: read `authorization: Bearer <token>` and find its
principal (UNAUTHENTICATED when a token is needed and missing, or unknown,
expired, revoked); look the method up in the permission table
(`access/wire/permissions.py`) and check the principal may do it on the
projects the request names (PERMISSION_DENIED otherwise, before any handler
runs, so an id outside the caller's projects is refused whether or not it
exists). A refused call is recorded in the audit log; a call let through
runs as its principal (`access/caller.py`) under an audit scope, so that its
writes append their audit event in their own transaction.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from maestro_grpc import audit
from maestro_grpc.access import caller
from maestro_grpc.access.domain.audit import AuditLog
from maestro_grpc.access.domain.authorize import Authorizer, Need
from maestro_grpc.access.domain.tokens import Tokens
from maestro_grpc.access.model import OPEN, Principal
from maestro_grpc.access.wire.permissions import OPEN_PREFIXES, rule_for
from maestro_grpc.errors import PermissionDenied, Unauthenticated
from maestro_grpc.interceptors.base import CallInfo, WrappingInterceptor
from maestro_grpc.interceptors.decode import parsed
from maestro_grpc.interceptors.request_id import current_request_id, principal_var

log = logging.getLogger("maestro.auth")


class AccessInterceptor(WrappingInterceptor):
    def __init__(self, tokens: Tokens, authorizer: Authorizer, audit_log: AuditLog) -> None:
        self.tokens = tokens
        self.authorizer = authorizer
        self.audit_log = audit_log

    def applies_to(self, full_method: str) -> bool:
        return not full_method.startswith(OPEN_PREFIXES)

    async def around(self, call: CallInfo, proceed: Callable[[], Awaitable[Any]]) -> Any:
        principal, scope = await self._admit(call)
        with caller.acting_as(principal), audit.scope(scope):
            return await proceed()

    async def around_stream(self, call: CallInfo, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        principal, scope = await self._admit(call)
        with caller.acting_as(principal), audit.scope(scope):
            async for item in stream:
                yield item

    async def _admit(self, call: CallInfo) -> tuple[Principal, audit.AuditScope]:
        scope = audit.AuditScope(
            method=call.method,
            request_id=current_request_id(),
            # Read now: grpc.aio's peer() on a call the client already
            # cancelled can crash the process.
            peer=call.peer(),
            token_id=None,
            token_name="",
        )
        try:
            principal = await self._authenticate(call)
            scope.token_id, scope.token_name = principal.token_id, principal.name
            need = self._need(call, scoped=principal.projects is not None)
            scope.project_ids.update(need.projects)
            granted = await self.authorizer.check(principal, need)
        except (Unauthenticated, PermissionDenied) as error:
            self.audit_log.deny(scope, error.code, error.message)
            raise
        scope.project_ids.update(granted.projects)
        return principal, scope

    async def _authenticate(self, call: CallInfo) -> Principal:
        header = call.header("authorization")
        if not header:
            if await self.tokens.needed():
                raise Unauthenticated(
                    "missing credentials: send the metadata 'authorization: Bearer <token>'",
                    reason="MISSING_TOKEN",
                )
            return OPEN
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthenticated(
                "malformed authorization metadata: expected 'Bearer <token>'",
                reason="MALFORMED_TOKEN",
            )
        principal = await self.tokens.authenticate(secret.strip())
        principal_var.set(principal.name)
        return principal

    def _need(self, call: CallInfo, *, scoped: bool) -> Need:
        rule = rule_for(call.method)
        if rule is None:
            log.error("%s has no entry in the permission table: refused", call.method)
            raise PermissionDenied(
                f"{call.method} is not in the permission table", reason="NO_PERMISSION_RULE"
            )
        if rule.needs is None or call.request is None or not scoped:
            # The request streams (the servicer checks what it names), or the
            # caller may act on every project: the action alone decides, and
            # nothing need be read out of the request here.
            return Need(rule.action)
        # Authenticated by now: only now is the request parsed (interceptors/decode.py).
        return rule.needs(parsed(call.request))
