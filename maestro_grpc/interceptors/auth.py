"""Bearer-token authentication.

With tokens configured, every call but the health check must carry
`authorization: Bearer <token>`; the token's name becomes the call's
principal (in the access log). Health stays open so load balancers and
Kubernetes probes can reach it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from maestro_grpc.errors import Unauthenticated
from maestro_grpc.interceptors.base import CallInfo, WrappingInterceptor
from maestro_grpc.interceptors.request_id import principal_var

OPEN_SERVICES = ("/grpc.health.v1.Health/",)


class AuthInterceptor(WrappingInterceptor):
    def __init__(self, tokens: Mapping[str, str]) -> None:
        # Keep digests only, and compare in constant time.
        self._digests = [
            (hashlib.sha256(token.encode()).digest(), name) for token, name in tokens.items()
        ]

    def applies_to(self, full_method: str) -> bool:
        return not full_method.startswith(OPEN_SERVICES)

    def _authenticate(self, call: CallInfo) -> None:
        header = ""
        for key, value in call.context.invocation_metadata() or ():
            if key == "authorization" and isinstance(value, str):
                header = value
                break
        scheme, _, token = header.partition(" ")
        if not header:
            raise Unauthenticated(
                "missing credentials: send the metadata 'authorization: Bearer <token>'",
                reason="MISSING_TOKEN",
            )
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated(
                "malformed authorization metadata: expected 'Bearer <token>'",
                reason="MALFORMED_TOKEN",
            )
        digest = hashlib.sha256(token.strip().encode()).digest()
        name = ""
        for known, known_name in self._digests:
            if hmac.compare_digest(digest, known):
                name = known_name
        if not name:
            raise Unauthenticated("invalid token", reason="INVALID_TOKEN")
        principal_var.set(name)

    async def around(self, call: CallInfo, proceed: Callable[[], Awaitable[Any]]) -> Any:
        self._authenticate(call)
        return await proceed()

    async def around_stream(self, call: CallInfo, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        self._authenticate(call)
        async for item in stream:
            yield item
