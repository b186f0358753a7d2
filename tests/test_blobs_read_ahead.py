"""The blob stores' read-ahead: reads run in threads, the handle closes once, after the last.

A download can be cut off at any moment: the consumer closes the stream, its
task is cancelled (twice, when a server shuts down), or the event loop ends
while a read is still running in its thread. Whatever happens, the handle is
closed exactly once, never while a read is using it, and nothing is left to
raise where no one can catch it (no "unraisable" exception at garbage
collection, no task destroyed while pending).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from maestro_grpc.blobs.base import read_ahead


class SlowSource:
    """Chunks from a list; the read after `block_after` chunks waits for `gate`."""

    def __init__(self, chunks: list[bytes], block_after: int) -> None:
        self.chunks = list(chunks)
        self.block_after = block_after
        self.reads = 0
        self.gate = threading.Event()
        self.blocked = threading.Event()
        self.closes = 0
        self.closed = threading.Event()
        self.reading = False
        self.closed_while_reading = False

    def read(self) -> bytes:
        self.reading = True
        try:
            if self.reads == self.block_after:
                self.blocked.set()
                self.gate.wait(10)
            self.reads += 1
            return self.chunks.pop(0) if self.chunks else b""
        finally:
            self.reading = False

    def close(self) -> None:
        self.closed_while_reading |= self.reading
        self.closes += 1
        self.closed.set()


@contextlib.contextmanager
def nothing_unraisable() -> Iterator[list[Any]]:
    """Collects what would reach sys.unraisablehook (and the loop's error handler)."""
    caught: list[Any] = []
    saved = sys.unraisablehook
    sys.unraisablehook = caught.append
    try:
        yield caught
        gc.collect()
    finally:
        sys.unraisablehook = saved


def run_on_own_loop(scenario: Callable[[], Any], reported: list[Any]) -> ThreadPoolExecutor:
    """Run `scenario()` on a fresh loop and close that loop right after, with
    whatever it left running (as a test's loop closes when the test ends).
    Returns the loop's executor: shut it down to wait for the reads left running."""
    loop = asyncio.new_event_loop()
    executor = ThreadPoolExecutor(max_workers=4)
    loop.set_default_executor(executor)
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        loop.run_until_complete(scenario())
    finally:
        loop.close()
    return executor


async def take(stream: Any, n: int) -> list[bytes]:
    return [await anext(stream) for _ in range(n)]


def test_everything_is_read_then_the_handle_closes() -> None:
    source = SlowSource([b"a", b"b", b"c"], block_after=99)

    async def scenario() -> list[bytes]:
        return [chunk async for chunk in read_ahead(source.read, source.close, depth=2)]

    assert asyncio.run(scenario()) == [b"a", b"b", b"c"]
    assert source.closes == 1


def test_a_failing_read_reaches_the_consumer_and_the_handle_closes() -> None:
    def read() -> bytes:
        raise OSError("disk gone")

    closed = threading.Event()

    async def scenario() -> None:
        with pytest.raises(OSError, match="disk gone"):
            async for _ in read_ahead(read, closed.set):
                pass

    asyncio.run(scenario())
    assert closed.is_set()


def test_closing_the_stream_mid_read_closes_the_handle_after_that_read() -> None:
    source = SlowSource([b"a", b"b", b"c"], block_after=1)

    async def scenario() -> None:
        stream = read_ahead(source.read, source.close, depth=1)
        assert await take(stream, 1) == [b"a"]
        await asyncio.to_thread(source.blocked.wait, 5)
        await stream.aclose()  # returns at once: the running read keeps the handle
        assert source.closes == 0
        source.gate.set()
        await asyncio.to_thread(source.closed.wait, 5)

    asyncio.run(scenario())
    assert source.closes == 1
    assert not source.closed_while_reading


def test_a_download_cut_off_as_the_loop_closes_leaves_nothing_unraisable() -> None:
    """The consumer's task is cancelled while a read runs (a client went away,
    a server stops), and the loop ends a moment later, the read still running:
    the cancellation must finish by then without waiting for that read."""
    source = SlowSource([b"a", b"b", b"c"], block_after=1)
    reported: list[Any] = []
    cancelled_in_time: list[bool] = []
    closes_while_read_ran: list[int] = []

    async def scenario() -> None:
        async def download() -> None:
            async with contextlib.aclosing(read_ahead(source.read, source.close, depth=1)) as s:
                async for _ in s:
                    pass

        task = asyncio.create_task(download())
        await asyncio.to_thread(source.blocked.wait, 5)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2)
        cancelled_in_time.append(done == {task})
        closes_while_read_ran.append(source.closes)

    with nothing_unraisable() as unraisable:
        executor = run_on_own_loop(scenario, reported)
        source.gate.set()
        executor.shutdown(wait=True)  # the read left running has returned
        gc.collect()
    assert unraisable == []
    assert reported == []
    assert cancelled_in_time == [True], "the cancelled download waited for its read thread"
    assert closes_while_read_ran == [0]  # the running read keeps the handle
    assert source.closes == 1  # by the read's own thread, once it returned
    assert not source.closed_while_reading


def test_a_stream_abandoned_as_the_loop_closes_leaves_nothing_unraisable() -> None:
    """Nobody closes the stream at all: the loop ends with the read running."""
    source = SlowSource([b"a", b"b", b"c"], block_after=1)
    reported: list[Any] = []
    streams: list[Any] = []

    async def scenario() -> None:
        stream = read_ahead(source.read, source.close, depth=1)
        streams.append(stream)
        assert await take(stream, 1) == [b"a"]
        await asyncio.to_thread(source.blocked.wait, 5)

    with nothing_unraisable() as unraisable:
        executor = run_on_own_loop(scenario, reported)
        streams.clear()
        source.gate.set()
        executor.shutdown(wait=True)
        gc.collect()
    assert unraisable == []
    assert source.closes <= 1
    assert not source.closed_while_reading
