"""`maestro agent stream`: points and events as JSON lines from stdin."""

from __future__ import annotations

import argparse
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from functools import partial

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
        idle_aware_lines(sys.stdin, max(0.05, args.idle_flush), emitter.flush),
        settings.project_id,
        emit_point=emitter.point,
        emit_event=emitter.event,
        on_invalid=invalid,
    )
    return Collected(summary=summary.as_dict(), partial=bool(summary.invalid))


def idle_aware_lines(
    stream: Iterable[str], idle_seconds: float, on_idle: Callable[[], None]
) -> Iterator[str]:
    """Lines of `stream`; calls on_idle() when none came for idle_seconds, so a
    slow producer's rows do not wait for a full batch."""
    lines: queue.Queue[str | None] = queue.Queue(maxsize=10_000)

    def pump() -> None:
        try:
            for line in stream:
                lines.put(line)
        finally:
            lines.put(None)

    threading.Thread(target=pump, name="agent-stdin", daemon=True).start()
    flushed = True
    while True:
        try:
            item = lines.get(timeout=idle_seconds)
        except queue.Empty:
            if not flushed:
                on_idle()
                flushed = True
            continue
        if item is None:
            return
        flushed = False
        yield item
