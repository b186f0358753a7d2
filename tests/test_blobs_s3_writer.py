"""The S3 writer's multipart plan, against a recording client (no S3 needed).

tests/content/test_blob_stores.py runs the same writer against moto; here
the part sizes themselves are checked: they double every PARTS_PER_STEP
parts, and CompleteMultipartUpload lists every part once, in order.
"""

from __future__ import annotations

from typing import Any

import pytest

from maestro_grpc.blobs import s3
from maestro_grpc.blobs.base import blob_key

KIB = 1 << 10


class RecordingS3:
    """The few S3 calls a multipart upload makes, recorded."""

    class meta:  # boto3 clients keep their region in client.meta
        region_name = "us-east-1"

    def __init__(self) -> None:
        self.part_sizes: dict[int, int] = {}
        self.completed: list[dict[str, Any]] = []
        self.keys: list[str] = []

    def head_bucket(self, **_: Any) -> dict[str, Any]:
        return {}

    def create_multipart_upload(self, *, Key: str, **_: Any) -> dict[str, Any]:
        self.keys.append(Key)
        return {"UploadId": "upload-1"}

    def upload_part(self, *, PartNumber: int, Body: bytes, **_: Any) -> dict[str, Any]:
        self.part_sizes[PartNumber] = len(Body)
        return {"ETag": f'"etag-{PartNumber}"', s3.PART_CHECKSUM_FIELD: f"crc-{PartNumber}"}

    def complete_multipart_upload(self, *, MultipartUpload: dict[str, Any], **_: Any) -> None:
        self.completed = MultipartUpload["Parts"]


@pytest.mark.parametrize(("per_step", "sizes"), [(1, [4, 8, 16, 2]), (2, [4, 4, 8, 8, 6])])
async def test_parts_double_every_step_and_complete_in_order(
    monkeypatch: pytest.MonkeyPatch, per_step: int, sizes: list[int]
) -> None:
    monkeypatch.setattr(s3, "PART_SIZE", 4 * KIB)
    monkeypatch.setattr(s3, "PARTS_PER_STEP", per_step)
    client = RecordingS3()
    store = s3.S3BlobStore("bucket", client=client)
    digest = "ab" * 32
    writer = await store.writer(digest)
    for _ in range(30):
        await writer.write(b"x" * KIB)
    await writer.commit(digest)

    assert client.keys == [blob_key(digest)]
    assert [client.part_sizes[n] for n in sorted(client.part_sizes)] == [s * KIB for s in sizes]
    assert client.completed == [
        {"PartNumber": n, "ETag": f'"etag-{n}"', s3.PART_CHECKSUM_FIELD: f"crc-{n}"}
        for n in range(1, len(sizes) + 1)
    ]
