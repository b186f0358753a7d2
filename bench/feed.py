"""Feed and webhook benchmark on PostgreSQL: 10,000 followers, one new version; webhook rate.

Makes a PostgreSQL database of its own and starts `maestro serve` on it in a
subprocess (tokens required: an admin bootstrapped, followers' tokens name
their people). 10,000 people following the artifact `bench-model` are
loaded with COPY into the tables Create Person and Follow fill (through the
RPCs the load is 20,000 calls; it is not what is measured).

Feed: the time from calling CreateArtifact for `bench-model` 2 until the
event is in every follower's feed: the RPC's answer, then the store's own
count of followers whose feed holds the event (the feed's join, for all
10,000 at once) and ListActivity of 20 sampled followers through gRPC all
showing it. Target: at most 1 s. Beside it, a ListActivity's latency.

Webhooks: 10 webhooks to a receiver on loopback (http.server, HTTP/1.1
keep-alive), 100 new artifact versions (1,000 deliveries); deliveries per
second from the first event to the last delivery received, beside the
receiver's own capacity measured in the same run (the same number of POSTs
from httpx at the sender's concurrency, 32).

The last line is one JSON object: followers, feed_seconds, webhooks_per_s.

    .venv/bin/python bench/feed.py [--followers 10000] [--versions 100] [--webhooks 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import asyncpg
import grpc.aio
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, wait_port  # noqa: E402
from maestro.access.v1 import access_service_pb2 as ac  # noqa: E402
from maestro.access.v1 import access_service_pb2_grpc as acg  # noqa: E402
from maestro.people.v1 import collaboration_service_pb2 as cs  # noqa: E402
from maestro.people.v1 import collaboration_service_pb2_grpc as csg  # noqa: E402
from maestro.registry.v1 import artifact_pb2 as ap  # noqa: E402
from maestro.registry.v1 import registry_service_pb2 as rs  # noqa: E402
from maestro.registry.v1 import registry_service_pb2_grpc as rsg  # noqa: E402

ADMIN_URL = os.environ.get(
    "MAESTRO_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
NAME = "bench-model"
TARGET_FEED_SECONDS = 1.0
SAMPLE = 20

Metadata = tuple[tuple[str, str], ...]

FOLLOWERS_WITH_EVENT = """
SELECT count(DISTINCT f.person_id) FROM follows f
JOIN activity_targets t ON t.kind = f.kind AND t.key = f.key
WHERE t.event_seq = $1 AND t.event_seq > f.since_seq
"""


class Receiver:
    """Counts POSTs; answers 200 with keep-alive."""

    def __init__(self) -> None:
        self.count = 0
        self.last = 0.0
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with lock:
                    outer.count += 1
                    outer.last = time.perf_counter()

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 512
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


async def load_followers(conn: asyncpg.Connection, n: int) -> list[uuid.UUID]:
    now = datetime.now(UTC)
    ids = [uuid.uuid4() for _ in range(n)]
    await conn.copy_records_to_table(
        "people",
        records=[
            (pid, f"Follower {i}", f"f{i}@bench.example", f"f{i}", "", True, now, now)
            for i, pid in enumerate(ids)
        ],
        columns=[
            "id",
            "display_name",
            "email",
            "handle",
            "time_zone",
            "active",
            "create_time",
            "update_time",
        ],
    )
    since = await conn.fetchval("SELECT coalesce(max(seq), 0) FROM activity_events")
    await conn.copy_records_to_table(
        "follows",
        records=[(pid, "artifact", NAME, now, since) for pid in ids],
        columns=["person_id", "kind", "key", "create_time", "since_seq"],
    )
    return ids


async def tokens_for(
    access: acg.AccessServiceStub, admin: Metadata, people: list[uuid.UUID]
) -> list[Metadata]:
    made = await asyncio.gather(
        *(
            access.CreateToken(
                ac.CreateTokenRequest(name=f"f{i}", role=ac.ROLE_READER, person_id=str(p)),
                metadata=admin,
            )
            for i, p in enumerate(people)
        )
    )
    return [(("authorization", f"Bearer {m.secret}"),) for m in made]


async def feed_figures(
    channel: grpc.aio.Channel, conn: asyncpg.Connection, admin: Metadata, followers: int
) -> tuple[float, float, int]:
    registry = rsg.RegistryServiceStub(channel)
    collab = csg.CollaborationServiceStub(channel)
    await registry.CreateArtifact(
        rs.CreateArtifactRequest(
            artifact=ap.Artifact(name=NAME, version="1", type=ap.ARTIFACT_TYPE_MODEL)
        ),
        metadata=admin,
    )
    people = await load_followers(conn, followers)
    sample = await tokens_for(
        acg.AccessServiceStub(channel), admin, people[:: followers // SAMPLE][:SAMPLE]
    )
    for md in sample[:3]:  # warm the channel, the token cache and the plans
        await collab.ListActivity(cs.ListActivityRequest(page_size=1), metadata=md)

    started = time.perf_counter()
    await registry.CreateArtifact(
        rs.CreateArtifactRequest(
            artifact=ap.Artifact(name=NAME, version="2", type=ap.ARTIFACT_TYPE_MODEL)
        ),
        metadata=admin,
    )
    seq = await conn.fetchval("SELECT max(seq) FROM activity_events")
    while True:
        counted = await conn.fetchval(FOLLOWERS_WITH_EVENT, seq)
        feeds = await asyncio.gather(
            *(
                collab.ListActivity(cs.ListActivityRequest(page_size=1), metadata=md)
                for md in sample
            )
        )
        if counted == followers and all(f.events and f.events[0].sequence == seq for f in feeds):
            break
    feed_seconds = time.perf_counter() - started
    timings = []
    for md in sample:
        t = time.perf_counter()
        await collab.ListActivity(cs.ListActivityRequest(page_size=50), metadata=md)
        timings.append((time.perf_counter() - t) * 1000)
    return feed_seconds, statistics.median(timings), counted


async def webhook_figures(
    channel: grpc.aio.Channel, admin: Metadata, versions: int, hooks: int
) -> tuple[float, float, int, float]:
    receiver = Receiver()
    collab = csg.CollaborationServiceStub(channel)
    registry = rsg.RegistryServiceStub(channel)
    for i in range(hooks):
        await collab.CreateWebhook(
            cs.CreateWebhookRequest(
                webhook=cs.Webhook(
                    name=f"hook-{i}",
                    url=receiver.url,
                    event_kinds=[cs.ACTIVITY_KIND_ARTIFACT_VERSION],
                )
            ),
            metadata=admin,
        )
    total = versions * hooks
    started = time.perf_counter()
    gate = asyncio.Semaphore(8)

    async def one(v: int) -> None:
        async with gate:
            await registry.CreateArtifact(
                rs.CreateArtifactRequest(
                    artifact=ap.Artifact(name="hooked", version=str(v), type=ap.ARTIFACT_TYPE_MODEL)
                ),
                metadata=admin,
            )

    await asyncio.gather(*(one(v) for v in range(versions)))
    made_in = time.perf_counter() - started
    deadline = time.monotonic() + 120
    while receiver.count < total and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    delivered = receiver.count
    per_s = delivered / (receiver.last - started)

    # The receiver's own capacity: the same POSTs from httpx, 32 at a time.
    body = b'{"event": {"summary": "x"}}'
    async with httpx.AsyncClient() as client:
        limit = asyncio.Semaphore(32)
        before = receiver.count

        async def post() -> None:
            async with limit:
                await client.post(receiver.url, content=body)

        t = time.perf_counter()
        await asyncio.gather(*(post() for _ in range(total)))
        raw = (receiver.count - before) / (time.perf_counter() - t)
    receiver.server.shutdown()
    return per_s, raw, delivered, made_in


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--webhooks", type=int, default=10)
    args = parser.parse_args()

    name = f"maestro_bench_{uuid.uuid4().hex[:8]}"
    admin_conn = await asyncpg.connect(ADMIN_URL)
    await admin_conn.execute(f'CREATE DATABASE "{name}"')
    await admin_conn.close()
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    process: subprocess.Popen[bytes] | None = None
    with tempfile.TemporaryDirectory(prefix="maestro-bench-") as tmp:
        try:
            env = {**os.environ, "MAESTRO_DATABASE_URL": url, "MAESTRO_DATA_DIR": tmp}
            env.pop("MLFLOW_TRACKING_URI", None)
            run = [sys.executable, "-m", "maestro_grpc"]
            subprocess.run([*run, "migrate"], env=env, check=True, capture_output=True)
            secret = subprocess.run(
                [*run, "token", "bootstrap"], env=env, check=True, capture_output=True, text=True
            ).stdout.split()[0]
            admin = (("authorization", f"Bearer {secret}"),)
            port = free_port()
            process = subprocess.Popen(
                [*run, "serve"],
                env={
                    **env,
                    "MAESTRO_PORT": str(port),
                    "MAESTRO_HOST": "127.0.0.1",
                    "MAESTRO_METRICS_PORT": "off",
                    "MAESTRO_WEB_PORT": "off",
                    "MAESTRO_ACCESS_LOG": "0",
                    "MAESTRO_LOG_LEVEL": "WARNING",
                },
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            wait_port(port)
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                conn = await asyncpg.connect(url)
                try:
                    feed_s, list_ms, counted = await feed_figures(
                        channel, conn, admin, args.followers
                    )
                finally:
                    await conn.close()
                per_s, raw, delivered, made_in = await webhook_figures(
                    channel, admin, args.versions, args.webhooks
                )
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=60)
            admin_conn = await asyncpg.connect(ADMIN_URL)
            await admin_conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin_conn.close()

    print(
        f"a new version of an artifact {counted} people follow: in every follower's feed "
        f"{feed_s * 1000:.0f} ms after CreateArtifact was called (target <= "
        f"{TARGET_FEED_SECONDS * 1000:.0f} ms, ratio {feed_s / TARGET_FEED_SECONDS:.2f}); "
        f"ListActivity of a follower: {list_ms:.1f} ms (median of {SAMPLE})"
    )
    print(
        f"webhooks: {delivered} deliveries at {per_s:.0f}/s from the first event to the last "
        f"received; the receiver takes {raw:.0f} POSTs/s from httpx alone "
        f"(ratio {per_s / raw:.2f}); the {args.versions} CreateArtifact calls themselves took "
        f"{made_in:.2f} s"
    )
    print(
        json.dumps(
            {
                "followers": counted,
                "feed_seconds": round(feed_s, 4),
                "feed_target_seconds": TARGET_FEED_SECONDS,
                "list_activity_ms": round(list_ms, 2),
                "webhooks_per_s": round(per_s, 1),
                "webhook_receiver_limit_per_s": round(raw, 1),
                "webhook_deliveries": delivered,
                "webhook_events_seconds": round(made_in, 3),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
