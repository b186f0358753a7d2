"""Per-caller limits in plain Python: counted slots, and request rates as token buckets.

`Slots` counts the calls of one kind in flight per key (a principal, or the
whole server) under a bound. A request rate is a token bucket per key:
`TokenBuckets` keeps them in this process; `RedisRate` keeps them in Redis,
one atomic script per request, so that every replica draws on the same
bucket, and uses its own `TokenBuckets` while Redis cannot be reached (said
once in the log): a call is never refused because Redis is down. The limits
interceptor (`interceptors/limits.py`) decides which calls take what and
turns a refusal into RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from maestro_grpc.clock import Clock

log = logging.getLogger("maestro.limits")


class Slots:
    """Calls in flight per key, each key under the same bound (0: none)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held: dict[str, int] = {}

    def acquire(self, key: str) -> bool:
        """Take a slot for `key`; False when it holds `limit` already."""
        held = self.held.get(key, 0)
        if self.limit and held >= self.limit:
            return False
        self.held[key] = held + 1
        return True

    def release(self, key: str) -> None:
        held = self.held[key] - 1
        if held:
            self.held[key] = held
        else:
            del self.held[key]

    @property
    def total(self) -> int:
        return sum(self.held.values())


@dataclass
class _Bucket:
    tokens: float
    time: float


class TokenBuckets:
    """A token bucket per key, in this process: `rate` tokens a second, up to `burst`.

    A key's bucket starts full. Keys are principals, so there are as many as
    tokens; past `max_keys` the full buckets (the same as none) are dropped.
    """

    def __init__(self, rate: float, burst: int, *, max_keys: int = 10_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, now: float) -> float:
        """Take a token of `key`'s at `now` (seconds): 0.0, or the seconds until one is there."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._drop_full(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        elif now > bucket.time:
            # A clock that went back refills nothing until it is past the last call again.
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.time) * self.rate)
            bucket.time = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _drop_full(self, now: float) -> None:
        full = [
            key
            for key, b in self._buckets.items()
            if b.tokens + (now - b.time) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]


class RequestRate(Protocol):
    rate: float
    burst: int

    async def take(self, key: str, now: float) -> float:
        """0.0 when `key` may make a request at `now`, else the seconds until it may."""
        ...

    async def close(self) -> None: ...


class LocalRate:
    """The request rate of each caller, counted in this process."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.buckets = TokenBuckets(rate, burst)

    async def take(self, key: str, now: float) -> float:
        return self.buckets.take(key, now)

    async def close(self) -> None:
        pass


# The bucket of KEYS[1]; ARGV: rate (tokens a second), burst, now (seconds).
# Returns the seconds until a token is there ("0": one was taken). The
# replicas' clocks give `now`: one behind the last call refills nothing.
TAKE_SCRIPT = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'time')
local tokens, last = tonumber(state[1]), tonumber(state[2])
if tokens == nil or last == nil then
  tokens, last = burst, now
elseif now > last then
  tokens, last = math.min(burst, tokens + (now - last) * rate), now
end
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.9f', tokens),
  'time', string.format('%.6f', last))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return string.format('%.6f', wait)
"""


class RedisRate:
    """The request rate of each caller, shared by every replica through Redis.

    One EVALSHA per request, under `timeout`. When Redis fails or is slow,
    this replica counts on its own buckets, tries Redis again after
    `retry_seconds` (one call at a time tries), and logs the change each way
    once. A request whose answer timed out may still be counted once a
    frozen Redis thaws: the error is on the side of refusing.
    """

    def __init__(
        self,
        url: str,
        prefix: str,
        rate: float,
        burst: int,
        *,
        timeout: float = 0.25,
        retry_seconds: float = 5.0,
    ) -> None:
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.rate = rate
        self.burst = burst
        self.prefix = f"{prefix}rate:"
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self.client: Any = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._take: Any = self.client.register_script(TAKE_SCRIPT)
        self.local = TokenBuckets(rate, burst)
        self._retry_at: float | None = None  # time.monotonic() of the next try; None: up

    @property
    def shared(self) -> bool:
        """Whether the last request was counted in Redis."""
        return self._retry_at is None

    async def take(self, key: str, now: float) -> float:
        if self._retry_at is not None:
            if time.monotonic() < self._retry_at:
                return self.local.take(key, now)
            self._retry_at = time.monotonic() + self.retry_seconds
        try:
            async with asyncio.timeout(self.timeout):
                wait = await self._take(
                    keys=[self.prefix + key], args=[self.rate, self.burst, f"{now:.6f}"]
                )
        except Exception as error:  # Redis down, slow or refusing: never the caller's fault
            if self._retry_at is None:
                log.warning(
                    "rate limits are counted per replica while Redis cannot be reached: %r", error
                )
            self._retry_at = time.monotonic() + self.retry_seconds
            return self.local.take(key, now)
        if self._retry_at is not None:
            log.info("rate limits are shared through Redis again")
            self._retry_at = None
        return float(wait)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.client.aclose()


@dataclass
class CallLimits:
    """Every limit of one server: slots per caller and for the server, the request rate."""

    streams: Slots
    watches: Slots
    transfers: Slots
    downloads: Slots  # the whole server's: one key
    rate: RequestRate | None
    clock: Clock
    refused: Counter[str] = field(default_factory=Counter)

    def now(self) -> float:
        return self.clock().timestamp()

    async def close(self) -> None:
        if self.rate is not None:
            await self.rate.close()
