"""Receiving an upload's stream: hash (and write) every chunk, then check what was declared.

The stream is read promptly into a small queue, so receiving overlaps
hashing and writing; chunks are hashed and written in batches of about
BATCH_BYTES (fewer thread hops for small chunks).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator

from maestro_grpc.blobs import BlobWriter
from maestro_grpc.errors import InvalidArgument
from maestro_grpc.registry.model import Finish, UploadSpec

BATCH_BYTES = 1 << 20
# Messages read from the stream ahead of the hashing.
RECEIVE_AHEAD = 8

_Item = bytes | Finish | BaseException | None


async def receive(
    spec: UploadSpec, parts: AsyncIterator[bytes | Finish], writer: BlobWriter | None
) -> tuple[str, int]:
    """Hash (and, with a writer, write) every chunk until the finish message; the content's
    SHA-256 and size, once they agree with everything the client declared."""
    hasher = hashlib.sha256()
    size = 0
    queue: asyncio.Queue[_Item] = asyncio.Queue(RECEIVE_AHEAD)
    pumping = asyncio.create_task(_pump(parts, queue))
    finish: Finish | None = None
    try:
        while finish is None:
            batch, finish = await _next_batch(queue)
            if not batch:
                continue
            size += sum(len(chunk) for chunk in batch)
            if spec.size_bytes is not None and size > spec.size_bytes:
                raise InvalidArgument.for_field(
                    "header.declared_size_bytes",
                    f"the content is longer than the declared {spec.size_bytes} bytes; "
                    "nothing was kept",
                )
            data = batch[0] if len(batch) == 1 else b"".join(batch)
            if writer is None:
                await asyncio.to_thread(hasher.update, data)
            else:
                await asyncio.gather(asyncio.to_thread(hasher.update, data), writer.write(data))
    finally:
        pumping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pumping
    digest = hasher.hexdigest()
    _check_declared(spec, finish, digest, size)
    return digest, size


async def _pump(parts: AsyncIterator[bytes | Finish], queue: asyncio.Queue[_Item]) -> None:
    """Read the stream into the queue: its parts, then None if it ended without a finish,
    or the error that ended it."""
    try:
        async for part in parts:
            await queue.put(part)
            if isinstance(part, Finish):
                return
        await queue.put(None)
    except Exception as error:
        await queue.put(error)


async def _next_batch(queue: asyncio.Queue[_Item]) -> tuple[list[bytes], Finish | None]:
    """The chunks waiting (at least one message, up to BATCH_BYTES), and the finish if it
    came among them."""
    item = await queue.get()
    batch: list[bytes] = []
    batched = 0
    while True:
        if item is None:
            raise InvalidArgument.for_field(
                "finish",
                "the stream ended without the finish message (was the upload "
                "cancelled?); nothing was kept",
            )
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, Finish):
            return batch, item
        batch.append(item)
        batched += len(item)
        if batched >= BATCH_BYTES or queue.empty():
            return batch, None
        item = queue.get_nowait()


def _check_declared(spec: UploadSpec, finish: Finish, digest: str, size: int) -> None:
    if finish.sha256 and spec.sha256 and finish.sha256 != spec.sha256:
        raise InvalidArgument.for_field(
            "finish.declared_sha256", "differs from header.declared_sha256"
        )
    for declared, where in ((spec.sha256, "header"), (finish.sha256, "finish")):
        if declared and declared != digest:
            raise InvalidArgument.for_field(
                f"{where}.declared_sha256",
                f"the content's SHA-256 is {digest}, not the declared {declared}; nothing was kept",
            )
    if spec.size_bytes is not None and size != spec.size_bytes:
        raise InvalidArgument.for_field(
            "header.declared_size_bytes",
            f"the content has {size} bytes, not the declared {spec.size_bytes}; nothing was kept",
        )
