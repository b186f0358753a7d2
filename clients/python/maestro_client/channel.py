"""Channels to Maestro: TLS from the settings, the token on every call, retries.

`open_channel` gives a `grpc.aio` channel, `open_sync_channel` a blocking
one; both attach `authorization: Bearer <token>` to every call (when the
settings hold a token) and, given a RetryPolicy, retry what is safe to
retry (see retry.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
import grpc.aio

from maestro_client._bases import (
    AsyncStreamStream,
    AsyncStreamUnary,
    AsyncUnaryStream,
    AsyncUnaryUnary,
    SyncUnaryStream,
    SyncUnaryUnary,
)
from maestro_client.retry import (
    AsyncRetryInterceptor,
    RetryPolicy,
    SyncCallDetails,
    SyncRetryInterceptor,
)
from maestro_client.settings import ClientSettings

# Reconnect promptly after a server restart; the retry policy paces the calls.
DEFAULT_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.max_receive_message_length", 32 * 1024 * 1024),
    ("grpc.max_send_message_length", 32 * 1024 * 1024),
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 5_000),
)


def token_metadata(token: str) -> list[tuple[str, str]]:
    """The call metadata that carries a token (none without one)."""
    return [("authorization", f"Bearer {token}")] if token else []


def credentials(settings: ClientSettings) -> grpc.ChannelCredentials:
    """TLS credentials: the CA file's roots (else the system's), and a client
    certificate for a server that requires one (mutual TLS)."""
    roots = settings.ca_file.read_bytes() if settings.ca_file else None
    key = settings.key_file.read_bytes() if settings.key_file else None
    chain = settings.cert_file.read_bytes() if settings.cert_file else None
    return grpc.ssl_channel_credentials(
        root_certificates=roots, private_key=key, certificate_chain=chain
    )


def _with_token(metadata: Any, token: str) -> Any:
    present = list(metadata or ())
    if any(key == "authorization" for key, _ in present):
        return metadata
    return grpc.aio.Metadata(*present, *token_metadata(token))


class _AsyncToken(AsyncUnaryUnary, AsyncUnaryStream, AsyncStreamUnary, AsyncStreamStream):
    """Adds the token to every call that does not carry its own."""

    def __init__(self, token: str) -> None:
        self._token = token

    def _details(self, details: Any) -> Any:
        return details._replace(metadata=_with_token(details.metadata, self._token))

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)

    async def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(self._details(details), requests)

    async def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(self._details(details), requests)


def open_channel(
    settings: ClientSettings,
    *,
    retry: RetryPolicy | None = None,
    attach_token: bool = True,
    interceptors: Sequence[Any] = (),
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.aio.Channel:
    """An asyncio channel to `settings.address` (TLS when the settings say so).

    `attach_token=False` leaves the token to the caller (a stream that sends
    its own metadata); `interceptors` run after the token and retry ones.
    """
    chain: list[Any] = []
    if attach_token and settings.token:
        chain.append(_AsyncToken(settings.token))
    if retry is not None:
        chain.append(AsyncRetryInterceptor(retry))
    chain.extend(interceptors)
    merged = [*DEFAULT_OPTIONS, *options]
    if settings.tls:
        return grpc.aio.secure_channel(
            settings.address, credentials(settings), options=merged, interceptors=chain
        )
    return grpc.aio.insecure_channel(settings.address, options=merged, interceptors=chain)


class _SyncToken(SyncUnaryUnary, SyncUnaryStream):
    def __init__(self, token: str) -> None:
        self._token = token

    def _details(self, details: Any) -> Any:
        present = list(details.metadata or ())
        if any(key == "authorization" for key, _ in present):
            return details
        return SyncCallDetails(details, metadata=[*present, *token_metadata(self._token)])

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)


def open_sync_channel(
    settings: ClientSettings, *, retry: RetryPolicy | None = None, attach_token: bool = True
) -> grpc.Channel:
    """A blocking channel, for code that runs in a thread of its own."""
    merged = [*DEFAULT_OPTIONS]
    channel = (
        grpc.secure_channel(settings.address, credentials(settings), options=merged)
        if settings.tls
        else grpc.insecure_channel(settings.address, options=merged)
    )
    chain: list[Any] = []
    if attach_token and settings.token:
        chain.append(_SyncToken(settings.token))
    if retry is not None:
        chain.append(SyncRetryInterceptor(retry))
    return grpc.intercept_channel(channel, *chain) if chain else channel
