"""The streaming client: delivers the spool over StreamMetrics, exactly once.

A small state machine around one stream at a time:

1. **open**: send `StreamOpen(producer_id)`; the server answers `StreamOpened`
   with the producer's committed sequence, the in-flight window and the batch
   limit.
2. **reconcile**: spooled batches at or below the committed sequence are
   already stored (their ack was lost with the previous connection or a crash):
   drop them. The first time a state dir meets the server (`synced` not yet
   set), or when the server's numbering has a hole the spool cannot fill, the
   pending batches are renumbered to follow the committed sequence, durably,
   before any of them is sent. Batches larger than the server's limit are
   split the same way.
3. **send**: up to `max_inflight_batches` batches ahead of the acks, in order;
   each ack removes its batch from the spool. Acks marked `duplicate` count as
   delivered. Rejected rows are final and reported, never resent.
4. The stream ends OK when the server's stream lifetime is over: reconnect at
   once and resume. On UNAVAILABLE, ABORTED, OUT_OF_RANGE, RESOURCE_EXHAUSTED
   and the like: reconnect with exponential backoff and jitter (honouring a
   RetryInfo delay). UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT and
   UNIMPLEMENTED are not cured by waiting: stop at once.

The deadline counts time without progress: while batches wait to be acked and
none is, for `deadline_seconds`, the agent gives up with DeliveryFailed (the
spool keeps everything for the next run).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import grpc.aio

from maestro.metrics.v1 import metrics_service_pb2
from maestro_client import backoff_delay
from maestro_grpc.agent.settings import AgentSettings
from maestro_grpc.agent.spool import Record, Spool
from maestro_grpc.agent.wire import (
    EOF,
    STREAM_METHOD,
    call_metadata,
    describe_row,
    encode_batch_request,
    open_channel,
    passthrough,
    status_details,
)

log = logging.getLogger("maestro.agent")

OPEN_TIMEOUT_SECONDS = 30.0
FATAL_CODES = {
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.FAILED_PRECONDITION,
}


class DeliveryFailed(RuntimeError):
    """The spool could not be delivered; the message says why and what is left."""


class _Retry(Exception):
    """This stream is over; open another (after `delay`, or a backoff when None)."""

    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


@dataclass
class DeliveryReport:
    """What one delivery did (the `--json` summary's `delivery`)."""

    batches_sent: int = 0
    rows_sent: int = 0
    batches_acked: int = 0
    rows_acked: int = 0
    stored_points: int = 0
    stored_events: int = 0
    duplicate_batches: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    streams_opened: int = 0
    reconnects: int = 0
    renumbered: int = 0
    pending_batches: int = 0
    pending_rows: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "batches_sent": self.batches_sent,
            "rows_sent": self.rows_sent,
            "batches_acked": self.batches_acked,
            "rows_acked": self.rows_acked,
            "stored_points": self.stored_points,
            "stored_events": self.stored_events,
            "duplicate_batches": self.duplicate_batches,
            "rejected": self.rejected,
            "streams_opened": self.streams_opened,
            "reconnects": self.reconnects,
            "pending_batches": self.pending_batches,
            "pending_rows": self.pending_rows,
        }


class Feed:
    """What the collectors tell the streamer: more was spooled, or no more will be."""

    def __init__(self) -> None:
        self.done = False
        self.changed = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def notify(self) -> None:
        """Callable from any thread."""
        self._loop.call_soon_threadsafe(self.changed.set)

    def finish(self) -> None:
        def _finish() -> None:
            self.done = True
            self.changed.set()

        self._loop.call_soon_threadsafe(_finish)

    @classmethod
    def finished(cls) -> Feed:
        feed = cls()
        feed.done = True
        return feed


class Streamer:
    """Delivers one spool to one server; see the module docstring."""

    def __init__(
        self,
        spool: Spool,
        settings: AgentSettings,
        producer_id: str,
        *,
        on_acked: Callable[[int], None] | None = None,
        backoff_initial: float = 0.25,
        backoff_max: float = 15.0,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.spool = spool
        self.settings = settings
        self.producer_id = producer_id
        self.report = DeliveryReport()
        self._on_acked = on_acked
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._rng = rng
        self._last_progress = time.monotonic()

    # ---- the loop ------------------------------------------------------------

    async def run(self, feed: Feed) -> DeliveryReport:
        """Send until the feed is done and the spool is empty; DeliveryFailed
        when the deadline passes without progress, or on a fatal status."""
        attempt = 0
        self._last_progress = time.monotonic()
        channel = open_channel(self.settings)
        try:
            while True:
                if feed.done and not self.spool.pending():
                    return self._finish()
                if not self.spool.pending():
                    feed.changed.clear()
                    if not feed.done and not self.spool.pending():
                        await feed.changed.wait()
                    continue
                acked_before = self.report.batches_acked
                try:
                    await self._one_stream(channel, feed)
                    delay: float | None = 0.0  # lifetime over, or all done
                    reason = "stream ended"
                except _Retry as retry:
                    delay, reason = retry.delay, str(retry)
                if self.report.batches_acked > acked_before:
                    attempt = 0
                if feed.done and not self.spool.pending():
                    return self._finish()
                self.report.reconnects += 1
                if delay is None:
                    delay = backoff_delay(
                        attempt, self._backoff_initial, self._backoff_max, 2.0, self._rng
                    )
                    attempt += 1
                remaining = self._remaining()
                if remaining <= 0 or (delay > remaining and self.spool.pending()):
                    self._give_up(reason)
                if delay:
                    log.info("agent: %s; reconnecting in %.2fs", reason, delay)
                    await asyncio.sleep(delay)
        finally:
            self.spool.flush_acked()
            self.spool.compact()
            await channel.close(grace=None)

    def _finish(self) -> DeliveryReport:
        self.spool.flush_acked()
        pending = self.spool.pending()
        self.report.pending_batches = len(pending)
        self.report.pending_rows = sum(r.rows for r in pending)
        return self.report

    def _remaining(self) -> float:
        if not self.spool.pending():
            self._last_progress = time.monotonic()
        return self.settings.deadline_seconds - (time.monotonic() - self._last_progress)

    def _give_up(self, reason: str) -> None:
        self._finish()
        raise DeliveryFailed(
            f"no progress delivering to {self.settings.address} for "
            f"{self.settings.deadline_seconds:g}s (last error: {reason}); "
            f"{self.report.pending_batches} batches ({self.report.pending_rows} rows) stay "
            f"spooled in {self.spool.directory} and will be sent by the next run"
        )

    # ---- one stream -----------------------------------------------------------------

    async def _one_stream(self, channel: grpc.aio.Channel, feed: Feed) -> None:
        method: Any = channel.stream_stream(
            STREAM_METHOD,
            request_serializer=passthrough,
            response_deserializer=metrics_service_pb2.StreamMetricsResponse.FromString,
        )
        call: Any = method(metadata=call_metadata(self.settings))
        try:
            await self._drive(call, feed)
        except grpc.aio.AioRpcError as error:
            self._raise_for(error)
        except (TimeoutError, ConnectionError, asyncio.InvalidStateError) as error:
            raise _Retry(f"connection problem: {error!r}") from None
        finally:
            call.cancel()

    def _raise_for(self, error: grpc.aio.AioRpcError) -> None:
        code = error.code()
        metadata, delay = status_details(error)
        details = error.details() or ""
        if code in FATAL_CODES:
            self._finish()
            raise DeliveryFailed(
                f"the server at {self.settings.address} refused the stream: "
                f"{code.name}: {details}; {self.report.pending_batches} batches stay spooled "
                f"in {self.spool.directory}"
            ) from None
        if code == grpc.StatusCode.OUT_OF_RANGE and "expected_sequence" in metadata:
            raise _Retry(
                f"server expects sequence {metadata['expected_sequence']} ({details})", None
            )
        raise _Retry(f"{code.name}: {details}", delay)

    async def _drive(self, call: Any, feed: Feed) -> None:
        open_request = metrics_service_pb2.StreamMetricsRequest(
            open=metrics_service_pb2.StreamOpen(producer_id=self.producer_id)
        )
        await call.write(open_request.SerializeToString())
        timeout = max(0.1, min(OPEN_TIMEOUT_SECONDS, self._remaining()))
        first = await asyncio.wait_for(call.read(), timeout)
        if first is EOF:
            status = await call.code()
            if status != grpc.StatusCode.OK:
                raise _Retry(f"stream ended before it opened: {status}")
            raise _Retry("stream ended before it opened")
        if first.WhichOneof("message") != "opened":
            raise _Retry(f"expected 'opened', got {first.WhichOneof('message')!r}")
        opened = first.opened
        self.report.streams_opened += 1
        self._reconcile(opened)
        window = max(1, opened.max_inflight_batches or 1)
        inflight: deque[Record] = deque()
        room = asyncio.Event()
        room.set()
        writer = asyncio.create_task(self._write(call, feed, inflight, window, room))
        try:
            await self._read_acks(call, inflight, room, writer, feed.changed)
        finally:
            if not writer.done():
                writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
                await writer
        if writer.done() and not writer.cancelled() and writer.exception() is not None:
            raise writer.exception()  # type: ignore[misc]

    def _reconcile(self, opened: metrics_service_pb2.StreamOpened) -> None:
        committed = opened.committed_sequence
        max_rows = opened.max_batch_rows or 1_000_000
        spool = self.spool
        if not spool.synced:
            # Nothing pending was ever sent under this producer: follow the
            # server's numbering, and persist that before sending anything.
            pending = spool.pending()
            first = pending[0].sequence if pending else spool.acked_sequence + 1
            if first != committed + 1 or spool.needs_split(max_rows):
                spool.renumber(committed + 1, max_rows)
                self.report.renumbered += 1
            spool.mark_synced()
            return
        acked = spool.ack(committed)
        self._count_acked_rows(acked)
        pending = spool.pending()
        if pending and pending[0].sequence != committed + 1:
            log.warning(
                "agent: the server's committed sequence %d does not meet the spool's next %d "
                "(restored server store?); renumbering the %d pending batches",
                committed,
                pending[0].sequence,
                len(pending),
            )
            spool.renumber(committed + 1, max_rows)
            self.report.renumbered += 1
        elif spool.needs_split(max_rows):
            spool.renumber(committed + 1, max_rows)
            self.report.renumbered += 1
        elif not pending and spool.acked_sequence < committed:
            spool.renumber(committed + 1, max_rows)

    def _count_acked_rows(self, records: list[Record]) -> None:
        # Acked by a previous stream whose ack we never saw.
        if records:
            self._last_progress = time.monotonic()
            rows = sum(r.rows for r in records)
            self.report.batches_acked += len(records)
            self.report.rows_acked += rows
            self.report.duplicate_batches += len(records)
            if self._on_acked:
                self._on_acked(rows)

    async def _write(
        self, call: Any, feed: Feed, inflight: deque[Record], window: int, room: asyncio.Event
    ) -> None:
        last_sent = self.spool.acked_sequence
        while True:
            feed.changed.clear()
            fresh = [r for r in self.spool.pending() if r.sequence > last_sent]
            if not fresh:
                if feed.done:
                    # Everything is sent: half-close, so the server knows no
                    # more is coming; it still acks what it has, then ends.
                    await call.done_writing()
                    return
                await feed.changed.wait()
                continue
            for record in fresh:
                while len(inflight) >= window:
                    room.clear()
                    await room.wait()
                payload = self.spool.read(record)
                inflight.append(record)
                await call.write(encode_batch_request(record.sequence, payload))
                last_sent = record.sequence
                self.report.batches_sent += 1
                self.report.rows_sent += record.rows

    async def _read_acks(
        self,
        call: Any,
        inflight: deque[Record],
        room: asyncio.Event,
        writer: asyncio.Task[None],
        wake: asyncio.Event,
    ) -> None:
        # The acks are read by a task of their own that awaits call.read()
        # directly: an ack is handled as soon as it arrives. (Waiting on a
        # read future with asyncio.wait noticed it only at the wait's
        # timeout, 0.5 s per ack.)
        reader = asyncio.create_task(self._ack_loop(call, inflight, room, wake))
        try:
            while True:
                waiting: set[asyncio.Future[Any]] = {reader}
                if not writer.done():
                    waiting.add(writer)
                done, _ = await asyncio.wait(waiting, timeout=0.5)
                if writer in done and writer.exception() is not None:
                    raise writer.exception()  # type: ignore[misc]
                if reader in done:
                    reader.result()  # its error, if it failed
                    return  # lifetime over (or we finished): reconnect if anything is left
                if inflight and self._remaining() <= 0:
                    raise _Retry("no acknowledgement within the deadline")
        finally:
            if reader.done():
                if not reader.cancelled():
                    reader.exception()  # retrieved: raised above when it mattered
            else:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
                    await reader

    async def _ack_loop(
        self, call: Any, inflight: deque[Record], room: asyncio.Event, wake: asyncio.Event
    ) -> None:
        while True:
            response = await call.read()
            if response is EOF:
                status = await call.code()
                if status != grpc.StatusCode.OK:
                    raise _Retry(f"stream ended with {status}")
                return
            if response.WhichOneof("message") != "ack":
                continue
            self._handle_ack(response.ack, inflight)
            room.set()
            wake.set()

    def _handle_ack(self, ack: metrics_service_pb2.BatchAck, inflight: deque[Record]) -> None:
        if not inflight or ack.sequence != inflight[0].sequence:
            expected = inflight[0].sequence if inflight else None
            raise _Retry(f"ack for sequence {ack.sequence}, expected {expected}")
        record = inflight.popleft()
        if ack.rejected:
            payload = self.spool.read(record)
            for row in ack.rejected:
                self.report.rejected.append(
                    {
                        "sequence": ack.sequence,
                        "field": row.field,
                        "description": row.description,
                        "row": describe_row(payload, row.field),
                    }
                )
        self.spool.ack(ack.sequence)
        self._last_progress = time.monotonic()
        self.report.batches_acked += 1
        self.report.rows_acked += record.rows
        self.report.stored_points += ack.stored_points
        self.report.stored_events += ack.stored_events
        if ack.duplicate:
            self.report.duplicate_batches += 1
        if self._on_acked:
            self._on_acked(record.rows)
