"""Retries of calls that are safe to repeat, on UNAVAILABLE, with backoff and jitter.

UNAVAILABLE is Maestro's "retry" (a store briefly out of reach, a replica
restarting, no server listening yet). A unary call is retried only when
repeating it cannot do anything twice:

- it reads: its method's name starts with Get, List, Search, Count,
  Recommend or Analyze, or is WhoAmI or health's Check (or is in
  `RetryPolicy.idempotent_methods`);
- or its request carries a non-empty `request_id`: the server answers a repeat
  with the first call's result and writes nothing (AIP-155).

Any other write is never retried: its UNAVAILABLE reaches the caller, who
knows whether a repeat is safe. Streams are not retried either (their
callers resume from what was acknowledged, as the agent does).

Attempt n (from 0) waits a random time between half and all of
`min(max_backoff, initial_backoff * multiplier**n)` ("equal jitter": spread
out, never zero), or the server's RetryInfo delay when it sends one. A call
with a timeout keeps it as the deadline of all its attempts together: no
retry starts that could not finish before it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import grpc
import grpc.aio
from google.rpc import error_details_pb2, status_pb2

from maestro_client._bases import AsyncUnaryUnary, SyncUnaryUnary

READ_PREFIXES = ("Get", "List", "Search", "Count", "Recommend", "Analyze")
READ_METHODS = frozenset({"WhoAmI", "Check"})
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE})


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts, how far apart; `on_retry(method, attempt, delay, code)`
    is told of each retry before its wait (for logs and progress)."""

    max_attempts: int = 5
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    multiplier: float = 2.0
    idempotent_methods: Collection[str] = frozenset()
    rng: Callable[[], float] = field(default=random.random, compare=False)
    on_retry: Callable[[str, int, float, grpc.StatusCode], None] | None = field(
        default=None, compare=False
    )

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 < self.initial_backoff <= self.max_backoff:
            raise ValueError("backoffs must satisfy 0 < initial_backoff <= max_backoff")
        if self.multiplier < 1:
            raise ValueError("multiplier must be at least 1")

    def delay(self, attempt: int) -> float:
        """The wait before retry number `attempt` (0 for the first retry)."""
        return backoff_delay(
            attempt, self.initial_backoff, self.max_backoff, self.multiplier, self.rng
        )

    def may_retry(self, method: str, request: Any) -> bool:
        """Whether repeating this call is safe (see the module docstring)."""
        name = method.rsplit("/", 1)[-1]
        if name.startswith(READ_PREFIXES) or name in READ_METHODS:
            return True
        if name in self.idempotent_methods or method in self.idempotent_methods:
            return True
        return bool(getattr(request, "request_id", ""))


def backoff_delay(
    attempt: int,
    initial: float,
    maximum: float,
    multiplier: float = 2.0,
    rng: Callable[[], float] = random.random,
) -> float:
    """Exponential backoff with equal jitter: in [cap/2, cap], cap = min(maximum,
    initial * multiplier**attempt)."""
    cap = min(maximum, initial * multiplier ** min(attempt, 64))
    return cap / 2 + rng() * cap / 2


def retry_delay(error: grpc.RpcError) -> float | None:
    """The server's RetryInfo delay on an error (an AioRpcError, or a blocking
    call's error), in seconds, where it sent one."""
    return delay_in(getattr(error, "trailing_metadata", lambda: None)())


def delay_in(trailing: Any) -> float | None:
    """The RetryInfo delay in an error's trailing metadata, in seconds, or None."""
    for key, value in trailing or ():
        if key != "grpc-status-details-bin" or not isinstance(value, bytes):
            continue
        for detail in status_pb2.Status.FromString(value).details:
            if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                info = error_details_pb2.RetryInfo()
                detail.Unpack(info)
                return float(info.retry_delay.ToTimedelta().total_seconds())
    return None


class _Attempts:
    """The attempts of one call: when the next may start, and how long it may take."""

    def __init__(self, policy: RetryPolicy, method: str, timeout: float | None) -> None:
        self.policy = policy
        self.method = method
        self.attempt = 0
        self.deadline = None if timeout is None else time.monotonic() + timeout

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def next_delay(self, code: grpc.StatusCode, server_delay: float | None) -> float | None:
        """The wait before another attempt, or None when there is none to make."""
        if code not in RETRYABLE or self.attempt + 1 >= self.policy.max_attempts:
            return None
        delay = server_delay if server_delay is not None else self.policy.delay(self.attempt)
        left = self.remaining()
        if left is not None and delay >= left:
            return None
        self.attempt += 1
        if self.policy.on_retry is not None:
            self.policy.on_retry(self.method, self.attempt, delay, code)
        return delay


def _method_name(details: Any) -> str:
    method = details.method
    return method.decode() if isinstance(method, bytes) else str(method)


class AsyncRetryInterceptor(AsyncUnaryUnary):
    """RetryPolicy on a grpc.aio channel (unary calls)."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        method = _method_name(details)
        if not self.policy.may_retry(method, request):
            return await continuation(details, request)
        attempts = _Attempts(self.policy, method, details.timeout)
        while True:
            call = await continuation(details._replace(timeout=attempts.remaining()), request)
            code = await call.code()
            if code == grpc.StatusCode.OK:
                return call
            server_delay = delay_in(await call.trailing_metadata())
            delay = attempts.next_delay(code, server_delay)
            if delay is None:
                return call
            await asyncio.sleep(delay)


class SyncRetryInterceptor(SyncUnaryUnary):
    """RetryPolicy on a blocking channel (unary calls)."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        method = _method_name(details)
        if not self.policy.may_retry(method, request):
            return continuation(details, request)
        attempts = _Attempts(self.policy, method, details.timeout)
        while True:
            outcome = continuation(SyncCallDetails(details, timeout=attempts.remaining()), request)
            code = outcome.code()
            if code == grpc.StatusCode.OK:
                return outcome
            delay = attempts.next_delay(code, retry_delay(outcome))
            if delay is None:
                return outcome
            time.sleep(delay)


class SyncCallDetails(grpc.ClientCallDetails):
    """A blocking call's details with some of them changed (grpc gives no `_replace`)."""

    def __init__(self, base: Any, **changes: Any) -> None:
        for name in ("method", "timeout", "metadata", "credentials", "wait_for_ready"):
            setattr(self, name, changes.get(name, getattr(base, name, None)))
        self.compression = changes.get("compression", getattr(base, "compression", None))
