"""The agent's local spool: an append-only file of numbered batches, kept until acked.

Everything the agent collects is written here first (and fsynced), then
streamed. A batch gets its sequence number when it is appended, so the
numbering survives a crash: after a restart the server's committed sequence
says exactly which spooled batches it already has (those are dropped) and
which must be sent again (the rest, with the same numbers), so nothing is lost
and nothing is stored twice.

Layout of the state dir's `spool/`:

- `batches.log`: records `magic, sequence, rows, length, crc32, payload`
  (payload: a serialized `maestro.metrics.v1.MetricBatch`). A record torn by a
  crash mid-append fails its length or CRC check and is cut off when the spool
  is next opened; it was never acknowledged to anyone, so nothing is lost that
  was promised.
- `acked.json`: the highest sequence the server acknowledged and whether the
  numbering has been checked against the server's (`synced`). Written
  atomically (temporary file, fsync, rename). Losing its latest value costs a
  resend that the server answers with `duplicate`, never a loss.

Acked records stay in the file until everything in it is acked (the file is
then emptied) or until they make up most of a large file (the pending tail is
then copied to a new file that replaces the old one atomically).
"""

from __future__ import annotations

import json
import os
import struct
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from maestro.metrics.v1 import metric_pb2

MAGIC = b"MSB1"
HEADER = struct.Struct("<4sQIII")  # magic, sequence, rows, payload length, crc32
COMPACT_MIN_BYTES = 8 * 1024 * 1024


class SpoolError(RuntimeError):
    """The spool cannot be used (unreadable state, bad arguments)."""


@dataclass(frozen=True)
class Record:
    """Where one spooled batch lives."""

    sequence: int
    rows: int
    offset: int
    length: int


def rows_of(batch: metric_pb2.MetricBatch) -> int:
    """Rows of a batch as the server counts them: points, columnar points, events."""
    return (
        len(batch.points)
        + sum(len(columns.values) for columns in batch.columns)
        + len(batch.events)
    )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class Spool:
    """The spool of one state dir. Thread-safe: collectors append from a thread
    while the streamer reads and acks on the event loop."""

    def __init__(self, directory: Path, *, fsync: bool = True) -> None:
        self.directory = directory
        self._fsync = fsync
        directory.mkdir(parents=True, exist_ok=True)
        self._log_path = directory / "batches.log"
        self._acked_path = directory / "acked.json"
        self._lock = threading.Lock()
        self._acked, self._synced = self._read_acked()
        self._records: list[Record] = []
        self.truncated_bytes = 0
        self._scan()
        self._file = open(self._log_path, "ab")  # noqa: SIM115 - lives as long as the spool
        self._dirty_acked = False

    # ---- opening ------------------------------------------------------------

    def _read_acked(self) -> tuple[int, bool]:
        try:
            raw = json.loads(self._acked_path.read_text())
        except FileNotFoundError:
            return 0, False
        except (OSError, ValueError) as error:
            raise SpoolError(f"cannot read {self._acked_path}: {error}") from None
        return int(raw.get("acked", 0)), bool(raw.get("synced", False))

    def _scan(self) -> None:
        """Index the records; cut a torn tail left by a crash mid-append."""
        if not self._log_path.exists():
            self._log_path.touch()
            return
        good_end = 0
        with open(self._log_path, "rb") as log:
            data = log.read()
        offset = 0
        while offset + HEADER.size <= len(data):
            magic, sequence, rows, length, crc = HEADER.unpack_from(data, offset)
            start = offset + HEADER.size
            if magic != MAGIC or start + length > len(data):
                break
            payload = data[start : start + length]
            if zlib.crc32(payload) != crc:
                break
            self._records.append(Record(sequence, rows, start, length))
            offset = start + length
            good_end = offset
        if good_end < len(data):
            self.truncated_bytes = len(data) - good_end
            with open(self._log_path, "r+b") as log:
                log.truncate(good_end)
                os.fsync(log.fileno())
        # Records at or below the acked sequence are done.
        self._records = [r for r in self._records if r.sequence > self._acked]

    def close(self) -> None:
        with self._lock:
            self._persist_acked_locked()
            self._file.close()

    # ---- what is there -----------------------------------------------------------

    @property
    def acked_sequence(self) -> int:
        return self._acked

    @property
    def synced(self) -> bool:
        return self._synced

    @property
    def last_sequence(self) -> int:
        """The highest sequence ever assigned (acked or pending)."""
        with self._lock:
            return self._records[-1].sequence if self._records else self._acked

    def pending(self) -> list[Record]:
        with self._lock:
            return list(self._records)

    def pending_rows(self) -> int:
        with self._lock:
            return sum(r.rows for r in self._records)

    def read(self, record: Record) -> bytes:
        """The payload (a serialized MetricBatch) of a pending record."""
        with open(self._log_path, "rb") as log:
            log.seek(record.offset)
            payload = log.read(record.length)
        if len(payload) != record.length:
            raise SpoolError(f"spool record {record.sequence} is missing from {self._log_path}")
        return payload

    # ---- writing -------------------------------------------------------------------

    def append(self, batches: Iterable[metric_pb2.MetricBatch]) -> list[Record]:
        """Number and write batches, durably (fsync) before returning."""
        payloads = [(batch.SerializeToString(), rows_of(batch)) for batch in batches]
        payloads = [(p, rows) for p, rows in payloads if rows]
        if not payloads:
            return []
        with self._lock:
            sequence = self._records[-1].sequence if self._records else self._acked
            offset = self._file.tell()
            chunks: list[bytes] = []
            added: list[Record] = []
            for payload, rows in payloads:
                sequence += 1
                header = HEADER.pack(MAGIC, sequence, rows, len(payload), zlib.crc32(payload))
                chunks.append(header)
                chunks.append(payload)
                added.append(Record(sequence, rows, offset + HEADER.size, len(payload)))
                offset += HEADER.size + len(payload)
            self._file.write(b"".join(chunks))
            self._file.flush()
            if self._fsync:
                os.fdatasync(self._file.fileno())
            self._records.extend(added)
            return added

    def ack(self, sequence: int) -> list[Record]:
        """Everything up to `sequence` is stored by the server: drop it."""
        with self._lock:
            if sequence <= self._acked:
                return []
            done = [r for r in self._records if r.sequence <= sequence]
            self._records = self._records[len(done) :]
            self._acked = sequence
            self._dirty_acked = True
            if not self._records:
                self._empty_locked()
            return done

    def mark_synced(self) -> None:
        """The numbering was checked against the server's: persist that first."""
        with self._lock:
            if not self._synced:
                self._synced = True
                self._persist_acked_locked(force=True)

    def flush_acked(self) -> None:
        with self._lock:
            self._persist_acked_locked()

    def _persist_acked_locked(self, force: bool = False) -> None:
        if not (self._dirty_acked or force):
            return
        data = json.dumps({"acked": self._acked, "synced": self._synced}).encode()
        _write_atomic(self._acked_path, data)
        self._dirty_acked = False

    def _empty_locked(self) -> None:
        # acked.json first: after a crash between the two steps the old
        # records are all at or below the acked sequence, so they are skipped.
        self._persist_acked_locked(force=True)
        self._file.truncate(0)
        self._file.seek(0)
        if self._fsync:
            os.fsync(self._file.fileno())

    def compact(self) -> bool:
        """Rewrite the file without its acked records when they are most of it."""
        with self._lock:
            size = self._file.tell()
            if not self._records:
                return False
            live = sum(HEADER.size + r.length for r in self._records)
            if size < COMPACT_MIN_BYTES or live * 2 > size:
                return False
            self._rewrite_locked(
                [(r.sequence, r.rows, self._read_locked(r)) for r in self._records]
            )
            return True

    def _read_locked(self, record: Record) -> bytes:
        with open(self._log_path, "rb") as log:
            log.seek(record.offset)
            return log.read(record.length)

    def _rewrite_locked(self, items: list[tuple[int, int, bytes]]) -> None:
        self._persist_acked_locked()
        tmp = self._log_path.with_name("batches.log.tmp")
        records: list[Record] = []
        offset = 0
        with open(tmp, "wb") as out:
            for sequence, rows, payload in items:
                out.write(HEADER.pack(MAGIC, sequence, rows, len(payload), zlib.crc32(payload)))
                out.write(payload)
                records.append(Record(sequence, rows, offset + HEADER.size, len(payload)))
                offset += HEADER.size + len(payload)
            out.flush()
            os.fsync(out.fileno())
        self._file.close()
        os.replace(tmp, self._log_path)
        _fsync_dir(self.directory)
        self._file = open(self._log_path, "ab")  # noqa: SIM115
        self._records = records

    def renumber(self, first_sequence: int, max_rows: int) -> None:
        """Renumber the pending batches from `first_sequence`, splitting any
        that hold more than `max_rows` rows (the server's limit).

        Used before sending, when the server's numbering is ahead of the
        spool's (a reused producer id with a new state dir), or its batch limit
        is below the spool's batches. The new numbers are durable before any of
        them is sent.
        """
        if max_rows < 1:
            raise SpoolError(f"max_rows must be positive, not {max_rows}")
        with self._lock:
            items: list[tuple[int, int, bytes]] = []
            sequence = first_sequence
            for record in self._records:
                payload = self._read_locked(record)
                for part in split_batch(payload, record.rows, max_rows):
                    items.append((sequence, part[1], part[0]))
                    sequence += 1
            self._acked = first_sequence - 1
            self._dirty_acked = True
            self._rewrite_locked(items)

    def needs_split(self, max_rows: int) -> bool:
        with self._lock:
            return any(r.rows > max_rows for r in self._records)


def split_batch(payload: bytes, rows: int, max_rows: int) -> list[tuple[bytes, int]]:
    """A serialized batch cut into batches of at most `max_rows` rows."""
    if rows <= max_rows:
        return [(payload, rows)]
    batch = metric_pb2.MetricBatch.FromString(payload)
    items: list[metric_pb2.MetricBatch] = []
    current = metric_pb2.MetricBatch()
    count = 0

    def room() -> int:
        return max_rows - count

    for point in batch.points:
        if not room():
            items.append(current)
            current, count = metric_pb2.MetricBatch(), 0
        current.points.append(point)
        count += 1
    for columns in batch.columns:
        for piece in _split_columns(columns, max_rows):
            n = len(piece.values)
            if n > room():
                items.append(current)
                current, count = metric_pb2.MetricBatch(), 0
            current.columns.append(piece)
            count += n
    for event in batch.events:
        if not room():
            items.append(current)
            current, count = metric_pb2.MetricBatch(), 0
        current.events.append(event)
        count += 1
    if count:
        items.append(current)
    return [(b.SerializeToString(), rows_of(b)) for b in items]


def _split_columns(
    columns: metric_pb2.MetricColumns, max_rows: int
) -> list[metric_pb2.MetricColumns]:
    n = len(columns.values)
    if n <= max_rows:
        return [columns]
    pieces = []
    for start in range(0, n, max_rows):
        end = min(start + max_rows, n)
        piece = metric_pb2.MetricColumns(
            project_id=columns.project_id,
            source=columns.source,
            names=columns.names,
            name_indexes=columns.name_indexes[start:end],
            values=columns.values[start:end],
            times_unix_micros=columns.times_unix_micros[start:end],
            label_sets=columns.label_sets,
        )
        if columns.label_set_indexes:
            piece.label_set_indexes.extend(columns.label_set_indexes[start:end])
        pieces.append(piece)
    return pieces
