"""run_every: the loop every worker shares stops soon after it is told to (#18, 12)."""

from __future__ import annotations

import asyncio

import pytest

from maestro_grpc import background
from maestro_grpc.background import run_every


async def test_a_pass_that_checks_stop_ends_it_and_no_pass_follows() -> None:
    stop = asyncio.Event()
    passes: list[int] = []

    async def work(told: asyncio.Event) -> int:
        passes.append(1)
        stop.set()
        await asyncio.sleep(0)
        return 0 if told.is_set() else 1

    await run_every(work, 0.01, stop, what="test")
    assert passes == [1]


async def test_a_pass_that_ignores_stop_is_cancelled_after_the_grace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(background, "STOP_GRACE_SECONDS", 0.05)
    stop = asyncio.Event()
    cancelled = asyncio.Event()

    async def stubborn(_: asyncio.Event) -> int:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return 0

    loop = asyncio.create_task(run_every(stubborn, 0.01, stop, what="test"))
    await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(loop, 10)
    assert cancelled.is_set()


async def test_a_failed_pass_is_retried() -> None:
    stop = asyncio.Event()
    calls = 0

    async def flaky(_: asyncio.Event) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("first pass fails")
        stop.set()
        return 1

    await run_every(flaky, 0.0, stop, what="test")
    assert calls == 2


async def test_cancelling_the_loop_cancels_the_pass_in_progress() -> None:
    """The server's in-process worker is cancelled at close: its pass must not outlive
    it (it would use a store already closed)."""
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def long_pass(_: asyncio.Event) -> int:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return 0

    loop = asyncio.create_task(run_every(long_pass, 1.0, asyncio.Event(), what="test"))
    await started.wait()
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    assert cancelled.is_set()
