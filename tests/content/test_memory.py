"""Memory stays flat while large content streams through the server.

256 MiB go up and come back down in 256 KiB messages, over a real channel,
client and server in this process; content is made and hashed chunk by chunk,
so nothing anywhere needs to hold it whole. tracemalloc's peak (Python
objects: messages, queues, buffers) and the peak RSS growth (which also sees
gRPC's C buffers) must stay a fraction of the content's size.
"""

from __future__ import annotations

import gc
import hashlib
import threading
import tracemalloc
from collections.abc import AsyncIterator, Iterator

import psutil
import pytest

from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from maestro_grpc.blobs import PART_SIZE, PARTS_IN_FLIGHT
from tests.content.support import KIB, MIB, make_artifact

TOTAL = 256 * MIB
CHUNK = 256 * KIB
# Bounds well under TOTAL: what a streaming path needs is a few chunks and, on
# S3, the parts in flight plus the one filling; a path that buffers the
# content would need all of it.
LIMITS = {
    "file": (32 * MIB, 64 * MIB),
    "s3": (
        (PARTS_IN_FLIGHT + 2) * PART_SIZE + 16 * MIB,
        (PARTS_IN_FLIGHT + 2) * PART_SIZE + 64 * MIB,
    ),
}


def content(total: int) -> Iterator[bytes]:
    block = hashlib.sha256(b"flat").digest() * (CHUNK // 32)
    for n in range(total // CHUNK):
        yield n.to_bytes(8, "big") + block[8:]


class RssPeak:
    """The highest RSS seen while it runs (sampled every 20 ms in a thread)."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.start = self.peak = self.process.memory_info().rss
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.stop.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> RssPeak:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    @property
    def growth(self) -> int:
        return int(self.peak - self.start)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("blob_kind", ["file", "s3"])
async def test_memory_stays_flat_for_a_large_upload_and_download(
    registry: rsg.RegistryServiceStub, blob_kind: str
) -> None:
    python_limit, rss_limit = LIMITS[blob_kind]
    assert python_limit < TOTAL / 3
    artifact = await make_artifact(registry, "big")
    expected = hashlib.sha256()

    async def requests() -> AsyncIterator[rs.UploadArtifactContentRequest]:
        yield rs.UploadArtifactContentRequest(header=rs.UploadHeader(artifact_id=artifact.id))
        for chunk in content(TOTAL):
            expected.update(chunk)
            yield rs.UploadArtifactContentRequest(chunk=chunk)
        yield rs.UploadArtifactContentRequest(finish=rs.UploadFinish())

    gc.collect()
    tracemalloc.start()
    try:
        with RssPeak() as rss:
            response = await registry.UploadArtifactContent(requests())
        upload_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        assert response.artifact.content_sha256 == expected.hexdigest()
        assert response.artifact.size_bytes == TOTAL

        received = hashlib.sha256()
        size = 0
        with RssPeak() as rss_down:
            async for message in registry.DownloadArtifactContent(
                rs.DownloadArtifactContentRequest(artifact_id=artifact.id)
            ):
                received.update(message.chunk)
                size += len(message.chunk)
        download_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (received.hexdigest(), size) == (expected.hexdigest(), TOTAL)
    print(
        f"\nupload: python peak {upload_peak / MIB:.1f} MiB, rss growth {rss.growth / MIB:.1f} MiB;"
        f" download: python peak {download_peak / MIB:.1f} MiB,"
        f" rss growth {rss_down.growth / MIB:.1f} MiB (content {TOTAL / MIB:.0f} MiB)"
    )
    assert upload_peak < python_limit
    assert download_peak < python_limit
    assert rss.growth < rss_limit
    assert rss_down.growth < rss_limit
