"""Runs one agent command: collect into the spool (in a thread) while streaming it.

Exit codes, for every `maestro agent` command:

| code | meaning |
| --- | --- |
| 0 | everything collected was stored (or, with `--spool-only`, spooled) |
| 1 | delivered, but the server refused some rows, or some input was invalid (listed) |
| 2 | bad options or unreadable input (not a repository, a broken JUnit file, ...) |
| 3 | not delivered: no progress before the deadline, or the stream was refused; |
|   | the spool keeps everything for the next run |
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from maestro.metrics.v1 import metric_pb2, process_event_pb2
from maestro_grpc import tracing
from maestro_grpc.agent.batching import MAX_ROWS, BatchBuilder
from maestro_grpc.agent.client import DeliveryFailed, DeliveryReport, Feed, Streamer
from maestro_grpc.agent.progress import Progress
from maestro_grpc.agent.settings import AgentSettings, load_producer_id
from maestro_grpc.agent.spool import Spool

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_UNDELIVERED = 3


class CollectError(RuntimeError):
    """A collector could not read its input; the message is for the user."""


class Emitter:
    """What collectors write to: rows go to batches, batches to the spool."""

    def __init__(
        self, spool: Spool, on_spooled: Callable[[int], None], *, max_rows: int = MAX_ROWS
    ) -> None:
        self._spool = spool
        self._on_spooled = on_spooled
        self._builder = BatchBuilder(self._sink, max_rows=max_rows)
        # A point as plain fields (see BatchBuilder.add_short): the fast path.
        self.short = self._builder.add_short

    def _sink(self, batches: list[metric_pb2.MetricBatch]) -> None:
        records = self._spool.append(batches)
        self._on_spooled(sum(r.rows for r in records))

    def event(self, event: process_event_pb2.ProcessEvent) -> None:
        self._builder.add_event(event)

    def point(self, point: metric_pb2.MetricPoint) -> None:
        self._builder.add_point(point)

    def flush(self) -> None:
        self._builder.flush()

    @property
    def rows(self) -> int:
        return self._builder.rows


@dataclass
class Collected:
    """A collector's result: its summary, and what to do once all of it is spooled."""

    summary: dict[str, Any] = field(default_factory=dict)
    after_spooled: Callable[[], None] | None = None
    partial: bool = False  # some input was invalid (exit 1)


Collector = Callable[[Emitter], Collected]


@dataclass
class Outcome:
    command: str
    producer_id: str = ""
    state_dir: str = ""
    collected: dict[str, Any] = field(default_factory=dict)
    delivery: DeliveryReport | None = None
    spooled_rows: int = 0
    error: str = ""
    exit_code: int = EXIT_OK

    def as_dict(self) -> dict[str, Any]:
        delivery = self.delivery or DeliveryReport()
        return {
            "command": self.command,
            "ok": self.exit_code == EXIT_OK,
            "exit_code": self.exit_code,
            "error": self.error or None,
            "producer_id": self.producer_id,
            "state_dir": self.state_dir,
            "collected": self.collected,
            "spooled_rows": self.spooled_rows,
            "sent": delivery.rows_sent,
            "acked": delivery.rows_acked,
            "duplicates": delivery.duplicate_batches,
            "rejected": delivery.rejected,
            "delivery": delivery.as_dict(),
        }


@contextlib.contextmanager
def state_lock(state_dir: Path, wait_seconds: float) -> Iterator[None]:
    """One agent process per state dir at a time (the spool's numbering is its own)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / "lock", "a+") as handle:
        give_up = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > give_up:
                    raise CollectError(
                        f"another maestro agent is using {state_dir} (waited {wait_seconds:g}s); "
                        "set MAESTRO_AGENT_STATE_DIR to run agents side by side"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


async def run_collector(
    command: str,
    collect: Collector,
    settings: AgentSettings,
    *,
    send: bool = True,
    progress: Progress | None = None,
) -> Outcome:
    """Collect into the spool and deliver it; never raises for expected failures."""
    outcome = Outcome(command=command, state_dir=str(settings.state_dir))
    progress = progress or Progress(command, enabled=False)
    try:
        # One trace per run: its StreamMetrics calls, and the server's spans of them.
        with (
            tracing.span(f"maestro agent {command}", command=command),
            state_lock(settings.state_dir, settings.deadline_seconds),
        ):
            spool = Spool(settings.state_dir / "spool")
            try:
                outcome.producer_id = load_producer_id(settings.state_dir, settings.producer_id)
                await _collect_and_send(outcome, collect, spool, settings, send, progress)
            finally:
                spool.close()
    except CollectError as error:
        outcome.error = str(error)
        outcome.exit_code = EXIT_USAGE
    return outcome


async def _collect_and_send(
    outcome: Outcome,
    collect: Collector,
    spool: Spool,
    settings: AgentSettings,
    send: bool,
    progress: Progress,
) -> None:
    feed = Feed()
    streamer = Streamer(spool, settings, outcome.producer_id, on_acked=progress.add_acked)
    progress.add_collected(spool.pending_rows())

    def spooled(rows: int) -> None:
        outcome.spooled_rows += rows
        progress.add_collected(rows)
        feed.notify()

    def in_thread() -> Collected:
        emitter = Emitter(spool, spooled, max_rows=settings.batch_rows)
        result = collect(emitter)
        emitter.flush()
        if result.after_spooled is not None:
            result.after_spooled()
        return result

    sending = asyncio.create_task(streamer.run(feed)) if send else None
    try:
        collected = await asyncio.to_thread(in_thread)
        outcome.collected = collected.summary
        if collected.partial:
            outcome.exit_code = EXIT_PARTIAL
    except CollectError as error:
        outcome.error = str(error)
        outcome.exit_code = EXIT_USAGE
    finally:
        feed.finish()
    if sending is None:
        pending = spool.pending()
        outcome.delivery = DeliveryReport(
            pending_batches=len(pending), pending_rows=sum(r.rows for r in pending)
        )
        return
    try:
        outcome.delivery = await sending
    except DeliveryFailed as error:
        outcome.delivery = streamer.report
        outcome.error = "; ".join(filter(None, [outcome.error, str(error)]))
        outcome.exit_code = EXIT_UNDELIVERED
        return
    if outcome.delivery.rejected and outcome.exit_code == EXIT_OK:
        outcome.exit_code = EXIT_PARTIAL


def print_outcome(
    outcome: Outcome, *, as_json: bool, quiet: bool, out: TextIO | None = None
) -> None:
    out = out or sys.stdout
    if as_json:
        out.write(json.dumps(outcome.as_dict(), default=str) + "\n")
        out.flush()
        return
    if outcome.error:
        print(f"maestro agent {outcome.command}: {outcome.error}", file=sys.stderr)
    if quiet:
        return
    delivery = outcome.delivery or DeliveryReport()
    found = ", ".join(
        f"{value} {key.replace('_', ' ')}"
        for key, value in outcome.collected.items()
        if isinstance(value, int) and not isinstance(value, bool) and value
    )
    print(
        f"maestro agent {outcome.command}: {found or 'nothing new'}; "
        f"spooled {outcome.spooled_rows} rows; sent {delivery.rows_sent}, "
        f"acked {delivery.rows_acked} ({delivery.duplicate_batches} duplicate batches), "
        f"rejected {len(delivery.rejected)}; {delivery.pending_rows} rows still spooled",
        file=out,
    )
    for row in delivery.rejected[:20]:
        what = f" ({row['row']})" if row.get("row") else ""
        print(f"  rejected {row['field']}{what}: {row['description']}", file=out)
    if len(delivery.rejected) > 20:
        print(f"  ... and {len(delivery.rejected) - 20} more (see --json)", file=out)


def run_command(
    command: str,
    collect: Collector,
    settings: AgentSettings,
    *,
    as_json: bool,
    quiet: bool,
    send: bool = True,
) -> int:
    """The CLI entry: run, print the summary, return the exit code."""
    show_bar = not as_json and not quiet and sys.stderr.isatty()
    tracing.configure("maestro-agent")
    try:
        with Progress(f"agent {command}", enabled=show_bar) as progress:
            outcome = asyncio.run(
                run_collector(command, collect, settings, send=send, progress=progress)
            )
    finally:
        tracing.shutdown()
    print_outcome(outcome, as_json=as_json, quiet=quiet)
    return outcome.exit_code
