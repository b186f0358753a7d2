"""Blobs as objects of one S3 (or MinIO) bucket, through boto3.

An upload whose hash the client declared streams straight to the blob's key
as a multipart upload (`_S3Writer`), completed only once the hash checked
out; other uploads go to `staging/` and are copied server-side once hashed.
Presigned PUTs land under `incoming/` and are adopted (`_S3Incoming`) the
same way. boto3 calls run on the store's own threads; a lost S3 is
UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from maestro_grpc.blobs.base import (
    READ_CHUNK,
    BlobNotFound,
    BlobStore,
    BlobWriter,
    PresignedUrl,
    ReadBudget,
    blob_key,
    read_ahead,
)
from maestro_grpc.errors import Unavailable

log = logging.getLogger("maestro.blobs")

T = TypeVar("T")

# Multipart uploads: parts of PART_SIZE (S3's minimum is 5 MiB), at most
# PARTS_IN_FLIGHT uploading at once; the part size doubles every
# PARTS_PER_STEP parts so that S3's 10,000-part limit is far away (about
# 900 GiB) while memory stays flat for uploads of a few GiB.
PART_SIZE = 8 << 20
PARTS_IN_FLIGHT = 6
PARTS_PER_STEP = 2000
# Each part carries a CRC32 that S3 checks on arrival (what boto3's managed
# uploads send too), so a part damaged on the way is refused, not stored.
PART_CHECKSUM = "CRC32"
PART_CHECKSUM_FIELD = f"Checksum{PART_CHECKSUM}"  # in UploadPart's answer and Complete's parts
# A single CopyObject handles up to 5 GiB; beyond, boto3's managed copy.
SINGLE_COPY_LIMIT = 5 << 30

# Keys of uploads not yet at their address: uploads without a declared hash
# (copied to their address once hashed) and presigned PUTs (verified, then
# copied). The GC sweeps what crashed uploads left there.
STAGING_PREFIX = "staging/"
INCOMING_PREFIX = "incoming/"
UPLOAD_CONTENT_TYPE = "application/octet-stream"


def _s3_unavailable(error: BaseException) -> bool:
    from botocore.exceptions import (
        ClientError,
        HTTPClientError,
    )
    from botocore.exceptions import ConnectionError as BotoConnectionError

    # Refused, reset, timed out, or cut off while streaming.
    if isinstance(error, HTTPClientError | BotoConnectionError):
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return bool(status >= 500 or error.response.get("Error", {}).get("Code") == "SlowDown")
    return False


def _s3_not_found(error: BaseException) -> bool:
    from botocore.exceptions import ClientError

    if not isinstance(error, ClientError):
        return False
    code = str(error.response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}


class S3BlobStore(BlobStore):
    """Blobs as objects of one S3 (or MinIO) bucket, through boto3.

    Credentials and region come from the standard AWS variables and files.
    An upload whose hash the client declared goes straight to the blob's key
    as a multipart upload, completed only once the hash checked out; other
    uploads go to `staging/` and are copied server-side once hashed.
    """

    kind = "s3"
    supports_urls = True

    def __init__(
        self,
        bucket: str,
        endpoint_url: str = "",
        *,
        client: Any = None,
        read_budget: ReadBudget | None = None,
    ) -> None:
        self.bucket = bucket
        self.read_budget = read_budget if read_budget is not None else ReadBudget()
        self.endpoint_url = endpoint_url
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                signature_version="s3v4",
                # MinIO and moto serve buckets by path, not by host name.
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                max_pool_connections=32,
                retries={"mode": "standard", "max_attempts": 5},
                # We hash every byte ourselves; no second checksum per request.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            )
            client = boto3.session.Session().client(
                "s3", endpoint_url=endpoint_url or None, config=config
            )
        self.client = client
        # boto3 calls get threads of their own: parts in flight must not take
        # the default executor's few threads from the hashing and file work
        # that feeds them (2-core machines get 6).
        self._executor = ThreadPoolExecutor(
            max_workers=PARTS_IN_FLIGHT + 4, thread_name_prefix="maestro-s3"
        )
        self._bucket_ready = False
        self._bucket_lock = asyncio.Lock()

    def uri(self, sha256: str) -> str:
        return f"s3://{self.bucket}/{blob_key(sha256)}"

    async def call(self, method: Callable[..., T], /, **kwargs: Any) -> T:
        """Run one boto3 call in a thread; a lost S3 is UNAVAILABLE."""
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._executor, functools.partial(method, **kwargs)
            )
        except Exception as error:
            if _s3_unavailable(error):
                raise Unavailable(
                    f"the blob store is unreachable or failing ({error}); retry later",
                    reason="BLOB_STORE_UNAVAILABLE",
                    retry_delay_seconds=1.0,
                ) from error
            raise

    async def ready(self) -> None:
        """Make sure the bucket exists (created on first use when missing)."""
        if self._bucket_ready:
            return
        async with self._bucket_lock:
            if self._bucket_ready:
                return
            try:
                await self.call(self.client.head_bucket, Bucket=self.bucket)
            except Exception as error:
                if not _s3_not_found(error):
                    raise
                log.warning("creating the missing S3 bucket %s", self.bucket)
                params: dict[str, Any] = {"Bucket": self.bucket}
                region = self.client.meta.region_name
                if region and region != "us-east-1":
                    params["CreateBucketConfiguration"] = {"LocationConstraint": region}
                await self.call(self.client.create_bucket, **params)
            self._bucket_ready = True

    async def writer(self, sha256: str | None = None, size_hint: int | None = None) -> BlobWriter:
        await self.ready()
        key = blob_key(sha256) if sha256 else f"{STAGING_PREFIX}{uuid.uuid4().hex}"
        return _S3Writer(self, key, direct=bool(sha256), size_hint=size_hint)

    async def size(self, sha256: str) -> int | None:
        return await self._size(blob_key(sha256))

    async def _size(self, key: str) -> int | None:
        await self.ready()
        try:
            head = await self.call(self.client.head_object, Bucket=self.bucket, Key=key)
        except Exception as error:
            if _s3_not_found(error):
                return None
            raise
        return int(head["ContentLength"])

    def read(self, sha256: str, offset: int = 0) -> AsyncGenerator[bytes, None]:
        return self._read(blob_key(sha256), offset)

    async def _read(self, key: str, offset: int) -> AsyncGenerator[bytes, None]:
        await self.ready()
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if offset:
            params["Range"] = f"bytes={offset}-"
        try:
            response = await self.call(self.client.get_object, **params)
        except Exception as error:
            if _s3_not_found(error):
                raise BlobNotFound(key) from None
            raise
        body = response["Body"]

        def read() -> bytes:
            try:
                data: bytes = body.read(READ_CHUNK)
            except Exception as error:
                if _s3_unavailable(error):
                    raise Unavailable(
                        f"reading from the blob store failed ({error}); retry later",
                        reason="BLOB_STORE_UNAVAILABLE",
                        retry_delay_seconds=1.0,
                    ) from error
                raise
            return data

        async with contextlib.aclosing(
            read_ahead(read, body.close, budget=self.read_budget)
        ) as chunks:
            async for chunk in chunks:
                yield chunk

    async def delete(self, sha256: str) -> None:
        await self.ready()
        await self.call(self.client.delete_object, Bucket=self.bucket, Key=blob_key(sha256))

    async def copy(self, source: str, target: str, size: int) -> None:
        """Server-side copy of `source` to `target` (CopyObject, or multipart beyond 5 GiB)."""
        if size <= SINGLE_COPY_LIMIT:
            await self.call(
                self.client.copy_object,
                Bucket=self.bucket,
                Key=target,
                CopySource={"Bucket": self.bucket, "Key": source},
            )
        else:
            await self.call(
                self.client.copy,
                CopySource={"Bucket": self.bucket, "Key": source},
                Bucket=self.bucket,
                Key=target,
            )

    async def sweep(self, older_than: datetime) -> int:
        await self.ready()
        return await asyncio.to_thread(self._sweep, older_than)

    def _sweep(self, older_than: datetime) -> int:
        removed = 0
        uploads = self.client.get_paginator("list_multipart_uploads")
        for page in uploads.paginate(Bucket=self.bucket):
            for upload in page.get("Uploads", []):
                if upload["Initiated"] < older_than:
                    with contextlib.suppress(Exception):
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        removed += 1
        objects = self.client.get_paginator("list_objects_v2")
        for prefix in (STAGING_PREFIX, INCOMING_PREFIX):
            for page in objects.paginate(Bucket=self.bucket, Prefix=prefix):
                stale = [
                    {"Key": item["Key"]}
                    for item in page.get("Contents", [])
                    if item["LastModified"] < older_than
                ]
                if stale:
                    self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": stale})
                    removed += len(stale)
        return removed

    async def presign_get(self, sha256: str, expires_in: int) -> PresignedUrl:
        await self.ready()
        url = await self.call(
            self.client.generate_presigned_url,
            ClientMethod="get_object",
            Params={"Bucket": self.bucket, "Key": blob_key(sha256)},
            ExpiresIn=expires_in,
            HttpMethod="GET",
        )
        return PresignedUrl(url=url, method="GET")

    async def presign_put(self, name: str, expires_in: int) -> PresignedUrl:
        await self.ready()
        url = await self.call(
            self.client.generate_presigned_url,
            ClientMethod="put_object",
            Params={
                "Bucket": self.bucket,
                "Key": INCOMING_PREFIX + name,
                "ContentType": UPLOAD_CONTENT_TYPE,
            },
            ExpiresIn=expires_in,
            HttpMethod="PUT",
        )
        # The content type is signed: the PUT must send it as it is.
        return PresignedUrl(url=url, method="PUT", headers={"Content-Type": UPLOAD_CONTENT_TYPE})

    async def incoming_size(self, name: str) -> int | None:
        return await self._size(INCOMING_PREFIX + name)

    def read_incoming(self, name: str) -> AsyncGenerator[bytes, None]:
        return self._read(INCOMING_PREFIX + name, 0)

    def adopt_incoming(self, name: str) -> BlobWriter:
        return _S3Incoming(self, INCOMING_PREFIX + name)

    async def close(self) -> None:
        closer = getattr(self.client, "close", None)
        if closer is not None:
            await asyncio.to_thread(closer)


class _S3Writer(BlobWriter):
    """A multipart upload fed chunk by chunk, PARTS_IN_FLIGHT parts at a time.

    Small content (under one part) is one PutObject at commit. Nothing is
    visible at `key` before CompleteMultipartUpload, which runs only at
    commit, once the caller has checked the hash.
    """

    def __init__(self, store: S3BlobStore, key: str, *, direct: bool, size_hint: int | None):
        self.store = store
        self.key = key
        self.direct = direct
        self.pieces: list[bytes] = []
        self.buffered = 0
        self.size = 0
        self.upload_id: str | None = None
        self.etags: dict[int, tuple[str, str]] = {}  # part: ETag, checksum
        self.parts_sent = 0
        self.part_size = PART_SIZE
        if size_hint:
            # Enough room in 9,000 parts for the declared size.
            self.part_size = max(PART_SIZE, -(-size_hint // 9000))
        self.slots = asyncio.Semaphore(PARTS_IN_FLIGHT)
        self.inflight: set[asyncio.Task[None]] = set()
        self.failure: BaseException | None = None
        self.object_written = False

    def _check(self) -> None:
        if self.failure is not None:
            raise self.failure

    async def write(self, data: bytes) -> None:
        self._check()
        self.pieces.append(data)
        self.buffered += len(data)
        self.size += len(data)
        if self.buffered >= self.part_size:
            await self._send_buffer()

    async def _send_buffer(self) -> None:
        body = b"".join(self.pieces)
        self.pieces.clear()
        self.buffered = 0
        if self.upload_id is None:
            created = await self.store.call(
                self.store.client.create_multipart_upload,
                Bucket=self.store.bucket,
                Key=self.key,
                ChecksumAlgorithm=PART_CHECKSUM,
            )
            self.upload_id = created["UploadId"]
        self.parts_sent += 1
        if self.parts_sent % PARTS_PER_STEP == 0:
            self.part_size *= 2
        await self.slots.acquire()
        task = asyncio.create_task(self._put_part(self.parts_sent, body))
        self.inflight.add(task)
        task.add_done_callback(self.inflight.discard)

    async def _put_part(self, number: int, body: bytes) -> None:
        try:
            response = await self.store.call(
                self.store.client.upload_part,
                Bucket=self.store.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                PartNumber=number,
                Body=body,
                ChecksumAlgorithm=PART_CHECKSUM,
            )
            self.etags[number] = (response["ETag"], response.get(PART_CHECKSUM_FIELD, ""))
        except Exception as error:
            self.failure = self.failure or error
        finally:
            self.slots.release()

    async def _drain(self) -> None:
        if self.inflight:
            await asyncio.gather(*self.inflight, return_exceptions=True)

    async def commit(self, sha256: str) -> None:
        self._check()
        target = blob_key(sha256)
        if self.direct and target != self.key:
            raise ValueError(f"this upload was for {self.key}, not {target}")
        if self.upload_id is None:
            await self.store.call(
                self.store.client.put_object,
                Bucket=self.store.bucket,
                Key=self.key,
                Body=b"".join(self.pieces),
            )
            self.pieces.clear()
        else:
            if self.pieces:
                await self._send_buffer()
            await self._drain()
            self._check()
            await self.store.call(
                self.store.client.complete_multipart_upload,
                Bucket=self.store.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                MultipartUpload={
                    "Parts": [
                        {"PartNumber": n, "ETag": etag, PART_CHECKSUM_FIELD: checksum}
                        if checksum
                        else {"PartNumber": n, "ETag": etag}
                        for n, (etag, checksum) in sorted(self.etags.items())
                    ]
                },
            )
            self.upload_id = None
        self.object_written = True
        if not self.direct:
            await self.store.copy(self.key, target, self.size)
            await self.store.call(
                self.store.client.delete_object, Bucket=self.store.bucket, Key=self.key
            )
            self.object_written = False

    async def abort(self) -> None:
        self.pieces.clear()
        await self._drain()
        if self.upload_id is not None:
            upload_id, self.upload_id = self.upload_id, None
            try:
                await self.store.call(
                    self.store.client.abort_multipart_upload,
                    Bucket=self.store.bucket,
                    Key=self.key,
                    UploadId=upload_id,
                )
            except Exception:  # the GC's sweep aborts it later
                log.warning("could not abort multipart upload %s of %s", upload_id, self.key)
        if self.object_written and not self.direct:
            self.object_written = False
            with contextlib.suppress(Exception):
                await self.store.call(
                    self.store.client.delete_object, Bucket=self.store.bucket, Key=self.key
                )


class _S3Incoming(BlobWriter):
    """A presigned PUT's object, adopted: commit copies it to its blob address."""

    def __init__(self, store: S3BlobStore, key: str) -> None:
        self.store = store
        self.key = key

    async def write(self, data: bytes) -> None:
        raise TypeError("an adopted upload takes no more bytes")

    async def commit(self, sha256: str) -> None:
        size = await self.store._size(self.key)
        if size is None:
            raise BlobNotFound(self.key)
        await self.store.copy(self.key, blob_key(sha256), size)
        await self.abort()

    async def abort(self) -> None:
        await self.store.call(
            self.store.client.delete_object, Bucket=self.store.bucket, Key=self.key
        )
