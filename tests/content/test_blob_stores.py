"""The two blob stores behind one interface, used directly (no server, no database)."""

from __future__ import annotations

import base64
import contextlib
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import maestro_grpc.blobs as blobs_module
from maestro_grpc.blobs import (
    BlobNotFound,
    BlobStore,
    LocalBlobStore,
    S3BlobStore,
    UrlsUnsupported,
    blob_key,
)
from maestro_grpc.blobs import s3 as s3_blobs
from tests.content.support import MIB, pattern, sha


@pytest.fixture
def store(blob_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> BlobStore:
    if blob_kind == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        return S3BlobStore(f"maestro-test-{uuid.uuid4().hex[:12]}", endpoint)
    return LocalBlobStore(tmp_path / "blobs")


async def read_all(store: BlobStore, digest: str, offset: int = 0) -> bytes:
    parts = []
    async with contextlib.aclosing(store.read(digest, offset)) as stream:
        async for chunk in stream:
            parts.append(chunk)
    return b"".join(parts)


def test_blob_keys_split_after_two_characters() -> None:
    digest = sha(b"abc")
    assert blob_key(digest) == f"sha256/{digest[:2]}/{digest[2:]}"


async def test_write_commit_read_delete(store: BlobStore) -> None:
    data = pattern(3 * MIB + 3, seed=60)
    writer = await store.writer()
    for start in range(0, len(data), MIB):
        await writer.write(data[start : start + MIB])
    assert await store.size(sha(data)) is None  # invisible before commit
    await writer.commit(sha(data))
    assert await store.size(sha(data)) == len(data)
    assert await read_all(store, sha(data)) == data
    assert await read_all(store, sha(data), MIB + 1) == data[MIB + 1 :]
    await store.delete(sha(data))
    await store.delete(sha(data))  # deleting what is gone is fine
    assert await store.size(sha(data)) is None
    with pytest.raises(BlobNotFound):
        await read_all(store, sha(data))


async def test_an_aborted_writer_leaves_nothing(store: BlobStore) -> None:
    writer = await store.writer()
    await writer.write(pattern(9 * MIB, seed=61))
    await writer.abort()
    await writer.abort()
    assert await store.sweep(datetime.now(UTC) + timedelta(hours=1)) == 0


async def test_an_abandoned_read_stops_reading(store: BlobStore) -> None:
    data = pattern(8 * MIB, seed=62)
    writer = await store.writer()
    await writer.write(data)
    await writer.commit(sha(data))
    stream = store.read(sha(data))
    first = await anext(stream)
    assert first == data[: len(first)]
    await stream.aclose()  # the read-ahead stops, and the file or response is closed
    if isinstance(store, LocalBlobStore):
        import psutil

        assert str(store.path(sha(data))) not in {f.path for f in psutil.Process().open_files()}


@pytest.mark.parametrize("blob_kind", ["file"])
async def test_the_file_store_has_no_urls(store: BlobStore) -> None:
    digest = sha(b"x")
    for call in (
        store.presign_get(digest, 60),
        store.presign_put("a/b", 60),
        store.incoming_size("a/b"),
    ):
        with pytest.raises(UrlsUnsupported):
            await call
    with pytest.raises(UrlsUnsupported):
        store.read_incoming("a/b")
    with pytest.raises(UrlsUnsupported):
        store.adopt_incoming("a/b")


@pytest.mark.parametrize("blob_kind", ["s3"])
async def test_s3_parts_grow_and_stay_in_order(
    store: S3BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_blobs, "PARTS_PER_STEP", 1)  # double the part size every part
    data = pattern(30 * MIB + 1, seed=63)
    writer = await store.writer(sha(data))
    for start in range(0, len(data), MIB):
        await writer.write(data[start : start + MIB])
    await writer.commit(sha(data))
    assert await read_all(store, sha(data)) == data


@pytest.mark.parametrize("blob_kind", ["s3"])
async def test_s3_writer_for_one_address_refuses_another(store: S3BlobStore) -> None:
    data = pattern(9 * MIB, seed=64)
    writer = await store.writer(sha(data), size_hint=len(data))
    await writer.write(data)
    with pytest.raises(ValueError, match="was for"):
        await writer.commit(sha(b"other"))
    await writer.abort()
    assert store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []
    assert await store.size(sha(data)) is None


@pytest.mark.parametrize("blob_kind", ["s3"])
async def test_s3_adopting_a_missing_upload(store: S3BlobStore) -> None:
    incoming = store.adopt_incoming("nothing/here")
    with pytest.raises(TypeError):
        await incoming.write(b"x")
    with pytest.raises(BlobNotFound):
        await incoming.commit(sha(b"x"))


@pytest.mark.parametrize("blob_kind", ["s3"])
async def test_s3_sweep_removes_abandoned_uploads(store: S3BlobStore) -> None:
    started = await store.writer()
    await started.write(pattern(9 * MIB, seed=65))  # one part sent, never completed
    url = await store.presign_put("artifact/abc", 60)
    assert url.method == "PUT"
    store.client.put_object(Bucket=store.bucket, Key="incoming/artifact/abc", Body=b"abandoned")
    # Young leftovers stay. (moto dates every multipart upload 2010-11-10, so only
    # the object's age can be checked here; S3 and MinIO report the real time.)
    await store.sweep(datetime.now(UTC) - timedelta(hours=1))
    listing = store.client.list_objects_v2(Bucket=store.bucket)
    assert [item["Key"] for item in listing["Contents"]] == ["incoming/artifact/abc"]
    assert await store.sweep(datetime.now(UTC) + timedelta(hours=1)) >= 1
    assert store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []
    assert store.client.list_objects_v2(Bucket=store.bucket).get("KeyCount") == 0
    await started.abort()  # the upload it knew is gone already: logged, not raised


async def test_s3_parts_carry_a_crc32_that_s3_checks(moto_endpoint: str) -> None:
    store = S3BlobStore(f"maestro-test-{uuid.uuid4().hex[:12]}", moto_endpoint)
    data = pattern(3 * blobs_module.PART_SIZE + MIB, seed=64)  # four parts
    writer = await store.writer(sha(data), len(data))
    for start in range(0, len(data), MIB):
        await writer.write(data[start : start + MIB])
    await writer.commit(sha(data))
    head = store.client.head_object(
        Bucket=store.bucket, Key=blob_key(sha(data)), ChecksumMode="ENABLED"
    )
    assert head["ContentLength"] == len(data)

    # S3 gives a multipart object's checksum as the CRC32 of its parts'
    # CRC32s and the part count ("...-4"; moto leaves the count out), or with
    # full-object checksums the whole object's CRC32.
    def crc(b: bytes) -> bytes:
        return zlib.crc32(b).to_bytes(4, "big")

    size = blobs_module.PART_SIZE
    parts = b"".join(crc(data[i : i + size]) for i in range(0, len(data), size))
    whole = base64.b64encode(crc(data)).decode()
    composite = base64.b64encode(crc(parts)).decode()
    assert head["ChecksumCRC32"] in (whole, composite, composite + "-4")
    assert await read_all(store, sha(data)) == data
