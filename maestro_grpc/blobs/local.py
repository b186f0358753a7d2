"""Blobs as files under a root directory: the embedded default (<data dir>/blobs)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncGenerator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from maestro_grpc.blobs.base import (
    READ_CHUNK,
    BlobNotFound,
    BlobStore,
    BlobWriter,
    ReadBudget,
    blob_key,
    read_ahead,
)


class LocalBlobStore(BlobStore):
    """Blobs as files under `root`.

    New content goes to `root/tmp/<random>.part`, is fsynced, and renamed to
    `root/sha256/ab/cdef...`; a rename is atomic, so a reader sees the whole
    blob or none.
    """

    kind = "file"

    def __init__(self, root: Path, *, read_budget: ReadBudget | None = None) -> None:
        self.root = root.resolve()
        self.read_budget = read_budget if read_budget is not None else ReadBudget()
        self.tmp = self.root / "tmp"

    def path(self, sha256: str) -> Path:
        return self.root / blob_key(sha256)

    def uri(self, sha256: str) -> str:
        # Opaque: where the data dir is on the server's disk is nobody's business.
        return f"maestro-blob:{blob_key(sha256)}"

    async def writer(self, sha256: str | None = None, size_hint: int | None = None) -> BlobWriter:
        return await asyncio.to_thread(_LocalWriter.open, self)

    async def size(self, sha256: str) -> int | None:
        def stat() -> int | None:
            try:
                return self.path(sha256).stat().st_size
            except FileNotFoundError:
                return None

        return await asyncio.to_thread(stat)

    async def read(self, sha256: str, offset: int = 0) -> AsyncGenerator[bytes, None]:
        def open_at() -> BinaryIO:
            try:
                handle = self.path(sha256).open("rb")
            except FileNotFoundError:
                raise BlobNotFound(sha256) from None
            handle.seek(offset)
            return handle

        handle = await asyncio.to_thread(open_at)
        reader = read_ahead(lambda: handle.read(READ_CHUNK), handle.close, budget=self.read_budget)
        async with contextlib.aclosing(reader) as chunks:
            async for chunk in chunks:
                yield chunk

    async def delete(self, sha256: str) -> None:
        await asyncio.to_thread(self.path(sha256).unlink, missing_ok=True)

    async def sweep(self, older_than: datetime) -> int:
        cutoff = older_than.timestamp()

        def run() -> int:
            removed = 0
            if not self.tmp.is_dir():
                return 0
            for item in self.tmp.iterdir():
                try:
                    if item.stat().st_mtime < cutoff:
                        item.unlink()
                        removed += 1
                except FileNotFoundError:  # pragma: no cover - raced with its own cleanup
                    continue
            return removed

        return await asyncio.to_thread(run)


class _LocalWriter(BlobWriter):
    def __init__(self, store: LocalBlobStore, path: Path, handle: BinaryIO) -> None:
        self.store = store
        self.path = path
        self.handle = handle

    @classmethod
    def open(cls, store: LocalBlobStore) -> _LocalWriter:
        store.tmp.mkdir(parents=True, exist_ok=True)
        path = store.tmp / f"{uuid.uuid4().hex}.part"
        return cls(store, path, path.open("xb"))

    async def write(self, data: bytes) -> None:
        await asyncio.to_thread(self.handle.write, data)

    async def commit(self, sha256: str) -> None:
        await asyncio.to_thread(self._commit, sha256)

    def _commit(self, sha256: str) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        final = self.store.path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, final)
        # The rename itself must survive a crash too.
        directory = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    async def abort(self) -> None:
        def drop() -> None:
            self.handle.close()
            self.path.unlink(missing_ok=True)

        await asyncio.to_thread(drop)
