"""Blob benchmark: artifact content MB/s through gRPC, beside boto3 on the same S3.

Starts moto's S3 server and `maestro serve` (SQLite store, content on that
S3) in subprocesses, then measures in the same run, on the same bytes:

- gRPC upload: UploadArtifactContent in --chunk-kib messages, the SHA-256
  declared in the header (the fast path: the server streams a multipart
  upload straight to the blob's address and completes it once the hash
  checks out); also without a declared hash (staged, then copied
  server-side), reported beside it;
- gRPC download: DownloadArtifactContent of the same content;
- the limit: boto3's managed transfer (upload_fileobj / download_fileobj,
  default TransferConfig: 8 MiB parts, 10 threads) of the same bytes to and
  from the same S3 server; beside it, one plain GetObject stream, since
  moto serves the managed download's ranged GETs slowly (each one copies
  the whole object), which flatters the download ratio.

Each figure is the median of --repeat runs, each on fresh bytes (an
identical upload would be deduplicated); gRPC and boto3 take turns going
first, and the bucket is emptied after each run (moto slows as it fills).
Target (issue #6): at least half of boto3's rate each way. The last line is
one JSON object.

    .venv/bin/python bench/blobs.py [--mib 256] [--chunk-kib 1024] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import grpc.aio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port  # noqa: E402
from maestro.registry.v1 import artifact_pb2 as ap  # noqa: E402
from maestro.registry.v1 import registry_service_pb2 as rs  # noqa: E402
from maestro.registry.v1 import registry_service_pb2_grpc as rsg  # noqa: E402

MIB = 1 << 20
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}
BUCKET = "maestro-bench"


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{url} did not come up") from None
            time.sleep(0.1)


async def wait_grpc(address: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            async with grpc.aio.insecure_channel(address) as channel:
                await asyncio.wait_for(channel.channel_ready(), 2)
                return
        except (TimeoutError, grpc.aio.AioRpcError):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not come up") from None


def fresh_bytes(size: int, n: int) -> bytes:
    """`size` incompressible bytes, different for every n."""
    block = os.urandom(4 * MIB)
    data = bytearray(block * (size // len(block)) + block[: size % len(block)])
    data[:16] = hashlib.md5(f"run-{n}".encode()).digest()
    return bytes(data)


async def messages(
    artifact_id: str, data: bytes, chunk: int, declared: str
) -> AsyncIterator[rs.UploadArtifactContentRequest]:
    yield rs.UploadArtifactContentRequest(
        header=rs.UploadHeader(
            artifact_id=artifact_id, declared_sha256=declared, declared_size_bytes=len(data)
        )
    )
    view = memoryview(data)
    for start in range(0, len(data), chunk):
        yield rs.UploadArtifactContentRequest(chunk=bytes(view[start : start + chunk]))
    yield rs.UploadArtifactContentRequest(finish=rs.UploadFinish())


def empty_bucket(s3: Any) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=BUCKET, Delete={"Objects": keys})


def read_stream(s3: Any, key: str, size: int) -> None:
    """One GetObject read through in 1 MiB pieces (what the server does)."""
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"]
    received = 0
    while piece := body.read(MIB):
        received += len(piece)
    assert received == size


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


async def run(args: argparse.Namespace) -> dict[str, float]:
    size, chunk = args.mib * MIB, args.chunk_kib * 1024
    work = Path(tempfile.mkdtemp(prefix="maestro-bench-blobs-"))
    env = {**os.environ, **AWS_ENV}
    moto_port, grpc_port = free_port(), free_port()
    endpoint = f"http://127.0.0.1:{moto_port}"
    moto = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = None
    try:
        wait_http(endpoint, moto)
        server = subprocess.Popen(
            [sys.executable, "-m", "maestro_grpc", "serve", "--port", str(grpc_port)],
            env={
                **env,
                "MAESTRO_DATA_DIR": str(work),
                "MAESTRO_S3_ENDPOINT_URL": endpoint,
                "MAESTRO_S3_BUCKET": BUCKET,
                "MAESTRO_METRICS_PORT": "off",
                "MAESTRO_WEB_PORT": "off",
                "MAESTRO_ACCESS_LOG": "0",
                "MAESTRO_LOG_LEVEL": "WARNING",
            },
            stdout=subprocess.DEVNULL,
        )
        address = f"127.0.0.1:{grpc_port}"
        await wait_grpc(address, server)

        import boto3
        from botocore.config import Config

        os.environ.update(AWS_ENV)
        s3 = boto3.client(
            "s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"})
        )

        options = [
            ("grpc.max_send_message_length", 32 * MIB),
            ("grpc.max_receive_message_length", 32 * MIB),
        ]
        figures: dict[str, list[float]] = {
            k: []
            for k in (
                "upload",
                "upload_undeclared",
                "download",
                "boto3_up",
                "boto3_down",
                "boto3_get",
            )
        }
        async with grpc.aio.insecure_channel(address, options=options) as channel:
            stub = rsg.RegistryServiceStub(channel)

            async def through_grpc(data: bytes, declared: bool) -> None:
                digest = hashlib.sha256(data).hexdigest()
                artifact = (
                    await stub.CreateArtifact(
                        rs.CreateArtifactRequest(
                            artifact=ap.Artifact(
                                name=f"bench-{uuid.uuid4().hex[:8]}",
                                version="1",
                                type=ap.ARTIFACT_TYPE_DATASET,
                            )
                        )
                    )
                ).artifact
                start = time.perf_counter()
                response = await stub.UploadArtifactContent(
                    messages(artifact.id, data, chunk, digest if declared else "")
                )
                elapsed = time.perf_counter() - start
                assert response.artifact.content_sha256 == digest
                assert not response.deduplicated
                figures["upload" if declared else "upload_undeclared"].append(size / MIB / elapsed)
                if not declared:
                    return
                received = 0
                start = time.perf_counter()
                async for message in stub.DownloadArtifactContent(
                    rs.DownloadArtifactContentRequest(artifact_id=artifact.id)
                ):
                    received += len(message.chunk)
                elapsed = time.perf_counter() - start
                assert received == size
                figures["download"].append(size / MIB / elapsed)

            async def through_boto3(data: bytes) -> None:
                key = f"boto3/{uuid.uuid4().hex}"
                elapsed = await asyncio.to_thread(
                    timed, partial(s3.upload_fileobj, io.BytesIO(data), BUCKET, key)
                )
                figures["boto3_up"].append(size / MIB / elapsed)
                sink = io.BytesIO()
                elapsed = await asyncio.to_thread(
                    timed, partial(s3.download_fileobj, BUCKET, key, sink)
                )
                assert sink.getbuffer().nbytes == size
                figures["boto3_down"].append(size / MIB / elapsed)
                elapsed = await asyncio.to_thread(timed, partial(read_stream, s3, key, size))
                figures["boto3_get"].append(size / MIB / elapsed)

            for n in range(args.repeat):
                data = fresh_bytes(size, 2 * n)
                # moto slows down as it fills up and the machine's load drifts:
                # alternate who goes first, and empty the bucket after each run.
                if n % 2 == 0:
                    await through_grpc(data, declared=True)
                    await through_boto3(data)
                else:
                    await through_boto3(data)
                    await through_grpc(data, declared=True)
                await through_grpc(fresh_bytes(size, 2 * n + 1), declared=False)
                await asyncio.to_thread(empty_bucket, s3)
                print(
                    f"run {n + 1}: "
                    + ", ".join(f"{k} {v[-1]:.0f}" for k, v in figures.items() if v)
                    + " MB/s",
                    flush=True,
                )
    finally:
        for process in (server, moto):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
    return {k: statistics.median(v) for k, v in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=256, help="content size in MiB")
    parser.add_argument("--chunk-kib", type=int, default=1024, help="gRPC message size")
    parser.add_argument("--repeat", type=int, default=3, help="runs (the median is reported)")
    args = parser.parse_args()
    m = asyncio.run(run(args))
    up_ratio = m["upload"] / m["boto3_up"]
    down_ratio = m["download"] / m["boto3_down"]
    undeclared_ratio = m["upload_undeclared"] / m["boto3_up"]
    print(f"content {args.mib} MiB in {args.chunk_kib} KiB messages, median of {args.repeat}")
    print(
        f"upload   gRPC {m['upload']:7.1f} MB/s  boto3 {m['boto3_up']:7.1f} MB/s  "
        f"ratio {up_ratio:.2f} (target >= 0.50)"
    )
    print(
        f"upload   gRPC {m['upload_undeclared']:7.1f} MB/s  boto3 {m['boto3_up']:7.1f} MB/s  "
        f"ratio {undeclared_ratio:.2f} (no hash declared: staged, then copied)"
    )
    print(
        f"download gRPC {m['download']:7.1f} MB/s  boto3 {m['boto3_down']:7.1f} MB/s  "
        f"ratio {down_ratio:.2f} (target >= 0.50)"
    )
    print(
        f"download gRPC {m['download']:7.1f} MB/s  one boto3 GetObject stream "
        f"{m['boto3_get']:7.1f} MB/s  ratio {m['download'] / m['boto3_get']:.2f} (reference: "
        "boto3's managed download uses ranged GETs, which moto serves slowly)"
    )
    print(
        json.dumps(
            {
                "upload_mb_s": round(m["upload"], 1),
                "download_mb_s": round(m["download"], 1),
                "boto3_upload_mb_s": round(m["boto3_up"], 1),
                "boto3_download_mb_s": round(m["boto3_down"], 1),
                "upload_ratio": round(up_ratio, 2),
                "download_ratio": round(down_ratio, 2),
                "upload_undeclared_mb_s": round(m["upload_undeclared"], 1),
                "upload_undeclared_ratio": round(undeclared_ratio, 2),
                "boto3_get_object_mb_s": round(m["boto3_get"], 1),
                "size_mib": args.mib,
                "chunk_kib": args.chunk_kib,
                "repeat": args.repeat,
                "target_ratio": 0.5,
            }
        )
    )


if __name__ == "__main__":
    main()
