"""`maestro agent stream`: points and events as JSON lines from stdin."""

from __future__ import annotations

import argparse
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import BinaryIO

from maestro_grpc.agent import jsonlines
from maestro_grpc.agent.commands import common
from maestro_grpc.agent.runner import Collected, Emitter
from maestro_grpc.agent.settings import AgentSettings
from maestro_grpc.config import Settings


def register(sub: common.SubParsers, options: argparse.ArgumentParser) -> None:
    stream = sub.add_parser(
        "stream",
        parents=[options],
        help="send JSON lines from stdin (points and events)",
        description=jsonlines.__doc__,
        formatter_class=common.FORMATTER,
    )
    stream.add_argument(
        "--idle-flush",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="spool a partial batch when stdin is quiet this long (default 1)",
    )
    stream.set_defaults(handler=handle)


def handle(args: argparse.Namespace, _server_settings: Settings) -> int:
    return common.run(args, "stream", partial(collect, args))


def collect(args: argparse.Namespace, emitter: Emitter, settings: AgentSettings) -> Collected:
    def invalid(number: int, error: str) -> None:
        print(f"maestro agent stream: line {number}: {error}", file=sys.stderr)

    summary = jsonlines.read_lines(
        idle_aware_lines(sys.stdin.buffer, max(0.05, args.idle_flush), emitter.flush),
        settings.project_id,
        emit_point=emitter.point,
        emit_event=emitter.event,
        emit_short=emitter.short,
        on_invalid=invalid,
    )
    return Collected(summary=summary.as_dict(), partial=bool(summary.invalid))


# stdin is read in chunks of up to this many bytes (whatever is there):
# a hand-over between threads per chunk, not per line.
CHUNK_BYTES = 256 * 1024


def idle_aware_lines(
    stream: BinaryIO, idle_seconds: float, on_idle: Callable[[], None]
) -> Iterator[str]:
    """Lines of `stream` (decoded as UTF-8, a bad byte replaced); calls on_idle()
    when nothing came for idle_seconds, so a slow producer's rows do not wait
    for a full batch."""
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=32)
    read = getattr(stream, "read1", stream.read)

    def pump() -> None:
        try:
            while chunk := read(CHUNK_BYTES):
                chunks.put(chunk)
        finally:
            chunks.put(None)

    threading.Thread(target=pump, name="agent-stdin", daemon=True).start()
    flushed = True
    tail = b""
    while True:
        try:
            chunk = chunks.get(timeout=idle_seconds)
        except queue.Empty:
            if not flushed:
                on_idle()
                flushed = True
            continue
        if chunk is None:
            if tail:
                yield tail.decode("utf-8", "replace")
            return
        flushed = False
        end = chunk.rfind(b"\n")
        if end < 0:
            tail += chunk
            continue
        text = (tail + chunk[: end + 1]).decode("utf-8", "replace")
        tail = chunk[end + 1 :]
        lines = text.split("\n")
        lines.pop()  # after the last newline: empty
        yield from lines
