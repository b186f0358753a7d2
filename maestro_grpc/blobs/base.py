"""What both blob stores share: the interface, a blob's address, and the read-ahead.

A blob lives at `sha256/ab/cdef...` (its lower-case hex SHA-256, split after
two characters), so the same bytes are stored once. A `BlobWriter` streams
bytes to a temporary place and `commit(sha256)` moves them to the blob's
address in one step, so a crash never leaves half a blob under a real name.
Blocking I/O runs in threads; `read_ahead` overlaps those reads with the
consumer, a few chunks ahead, within a `ReadBudget` all of a store's reads share.
"""

from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from datetime import datetime

# Bytes per chunk read back, and how many chunks are read ahead of the
# consumer (reading overlaps sending; memory stays READ_CHUNK x READ_AHEAD
# per read, and within the store's ReadBudget for all of them).
READ_CHUNK = 1 << 20
READ_AHEAD = 4

BLOB_PREFIX = "sha256/"


class BlobNotFound(Exception):
    """The blob (or the presigned upload) is not in the store."""


class UrlsUnsupported(Exception):
    """This store cannot hand out presigned URLs."""


def blob_key(sha256: str) -> str:
    """The blob's address: `sha256/ab/cdef...`."""
    return f"{BLOB_PREFIX}{sha256[:2]}/{sha256[2:]}"


@dataclass(frozen=True)
class PresignedUrl:
    """A URL that lets its holder GET or PUT one object without credentials."""

    url: str
    method: str
    headers: dict[str, str] = field(default_factory=dict)


class BlobWriter(ABC):
    """Bytes on their way into the store; invisible until `commit`."""

    @abstractmethod
    async def write(self, data: bytes) -> None:
        """Append `data`."""

    @abstractmethod
    async def commit(self, sha256: str) -> None:
        """Make what was written the blob `sha256` (the caller has checked the hash)."""

    @abstractmethod
    async def abort(self) -> None:
        """Drop what was written; idempotent, and safe after a failed commit."""


class BlobStore(ABC):
    """Where artifact content lives, addressed by SHA-256."""

    kind: str = ""
    supports_urls: bool = False
    # The read-ahead of all this store's reads, bounded together (set by each store).
    read_budget: ReadBudget

    @abstractmethod
    def uri(self, sha256: str) -> str:
        """Where the blob lives, for Artifact.storage_uri (file://... or s3://...)."""

    @abstractmethod
    async def writer(self, sha256: str | None = None, size_hint: int | None = None) -> BlobWriter:
        """A writer for new content; `sha256`, when the caller expects it, lets the
        store write straight to that address (S3); commit must then name the same."""

    @abstractmethod
    async def size(self, sha256: str) -> int | None:
        """The stored blob's size, or None when it is not there."""

    @abstractmethod
    def read(self, sha256: str, offset: int = 0) -> AsyncGenerator[bytes, None]:
        """The blob's bytes from `offset`, in chunks; BlobNotFound when it is not there."""

    @abstractmethod
    async def delete(self, sha256: str) -> None:
        """Remove the blob; removing a missing blob is not an error."""

    @abstractmethod
    async def sweep(self, older_than: datetime) -> int:
        """Remove what uploads that crashed or were abandoned before `older_than` left
        behind (temporary files, staging objects, unfinished multipart uploads)."""

    async def presign_get(self, sha256: str, expires_in: int) -> PresignedUrl:
        """A URL to download the blob."""
        raise UrlsUnsupported(f"the {self.kind} blob store cannot hand out URLs")

    async def presign_put(self, name: str, expires_in: int) -> PresignedUrl:
        """A URL to upload bytes under the incoming `name`, to be adopted later."""
        raise UrlsUnsupported(f"the {self.kind} blob store cannot hand out URLs")

    async def incoming_size(self, name: str) -> int | None:
        """The size of what was PUT to the incoming `name`, or None."""
        raise UrlsUnsupported(f"the {self.kind} blob store cannot hand out URLs")

    def read_incoming(self, name: str) -> AsyncGenerator[bytes, None]:
        """What was PUT to the incoming `name`, in chunks."""
        raise UrlsUnsupported(f"the {self.kind} blob store cannot hand out URLs")

    def adopt_incoming(self, name: str) -> BlobWriter:
        """A writer whose commit moves the incoming `name` to its blob address."""
        raise UrlsUnsupported(f"the {self.kind} blob store cannot hand out URLs")


# ---- reading ahead ----------------------------------------------------------------


class _Handle:
    """A blocking source read from threads and released from the loop; closed
    exactly once, by whichever comes last: the release or the running read.

    So a cancelled download never waits for a read in flight (a slow disk, a
    stalled S3 response) and never closes the handle under it: the read
    closes it when it returns. Nothing here awaits, so a consumer can stop at
    any point, even as its event loop ends.
    """

    def __init__(self, read: Callable[[], bytes], close: Callable[[], None]) -> None:
        self._read = read
        self._close = close
        self._lock = threading.Lock()
        self._reading = False
        self._released = False
        self._closed = False

    def read(self) -> bytes:
        """The next chunk (in a thread); b"" once released. The end of the data
        or a failed read releases the handle too: nothing more will be read."""
        with self._lock:
            if self._released:
                return b""
            self._reading = True
        chunk = b""
        try:
            chunk = self._read()
            return chunk
        finally:
            with self._lock:
                self._reading = False
                self._released |= not chunk
                close = self._released and not self._closed
                self._closed |= close
            if close:
                self._close()

    def release(self) -> None:
        """No more reads: close now, or as soon as the running read returns. A
        close without a read running is a file's or a socket's close: it does
        not wait."""
        with self._lock:
            self._released = True
            close = not self._reading and not self._closed
            self._closed |= close
        if close:
            self._close()


class ReadBudget:
    """The bytes that every read of one blob store holds read ahead, bounded together.

    A read may always hold one chunk, so that every download moves; it reads
    further ahead, up to its depth, only while the total stays within
    `max_bytes` (0: no bound but each read's depth). The total is thus at
    most `max_bytes` plus a chunk per open read. What the consumer took is no
    longer counted. Used from the event loop only.
    """

    def __init__(self, max_bytes: int = 0) -> None:
        self.max_bytes = max_bytes
        self.held = 0
        self.reads = 0

    def take(self, size: int, *, first: bool) -> bool:
        if not first and self.max_bytes and self.held + size > self.max_bytes:
            return False
        self.held += size
        return True

    def give(self, size: int) -> None:
        self.held -= size


class _Ahead:
    """What one read holds read ahead (chunks, bytes), drawn from the budget: a chunk
    is reserved whole before its read, and counted at its size once read."""

    def __init__(self, budget: ReadBudget, depth: int, unit: int) -> None:
        self.budget = budget
        self.depth = depth
        self.unit = unit
        self.chunks = 0
        self.bytes = 0
        self.taken = asyncio.Event()

    async def reserve(self) -> None:
        """Room for one more chunk: within the depth, and the budget unless none is held.
        When there is none, only this read's consumer can make some (taking a chunk)."""
        while not (self.chunks < self.depth and self.budget.take(self.unit, first=not self.chunks)):
            self.taken.clear()
            await self.taken.wait()
        self.chunks += 1
        self.bytes += self.unit

    def read(self, size: int) -> None:
        """The read of the chunk reserved last returned `size` bytes (0: the end)."""
        self._give(self.unit - size)
        if not size:
            self.chunks -= 1

    def took(self, size: int) -> None:
        """The consumer took a chunk of `size` bytes."""
        self.chunks -= 1
        self._give(size)
        self.taken.set()

    def release(self) -> None:
        self._give(self.bytes)
        self.chunks = 0

    def _give(self, size: int) -> None:
        self.bytes -= size
        self.budget.give(size)


async def read_ahead(
    read: Callable[[], bytes],
    close: Callable[[], None],
    depth: int = READ_AHEAD,
    *,
    budget: ReadBudget | None = None,
    unit: int = READ_CHUNK,
) -> AsyncGenerator[bytes, None]:
    """Yield what `read()` returns until b"", reading in a thread up to `depth` chunks
    (of at most `unit` bytes) ahead, within `budget`. `close()` runs once, when no
    read runs any more (see `_Handle`)."""
    handle = _Handle(read, close)
    budget = budget if budget is not None else ReadBudget()
    ahead = _Ahead(budget, depth, unit)
    # Unbounded: the reservations bound what is in it.
    queue: asyncio.Queue[bytes | Exception] = asyncio.Queue()

    async def produce() -> None:
        try:
            while True:
                await ahead.reserve()
                chunk = await asyncio.to_thread(handle.read)
                ahead.read(len(chunk))
                if not chunk:
                    break
                queue.put_nowait(chunk)
            queue.put_nowait(b"")
        except Exception as error:
            queue.put_nowait(error)
        finally:
            handle.release()

    budget.reads += 1
    producer = asyncio.create_task(produce())
    try:
        while True:
            item = await queue.get()
            if isinstance(item, Exception):
                raise item
            if not item:
                return
            ahead.took(len(item))
            yield item
    finally:
        producer.cancel()
        try:
            # The producer stops at once (it never waits for a read in flight);
            # asyncio.wait lets a cancellation of our own pass, not swallowed.
            await asyncio.wait((producer,))
        finally:
            # A read still running in its thread counts no more: its chunk is
            # dropped as it returns.
            ahead.release()
            budget.reads -= 1
