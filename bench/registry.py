"""Registry benchmark: SearchArtifacts latency and GetProject throughput through gRPC.

Loads 100,000 artifacts (a vocabulary of 300 tags, Zipf-distributed, 1-6 per
artifact) into a PostgreSQL database of its own, starts `maestro serve` on it
in a subprocess, and measures:

- SearchArtifacts (one type, two or three tags any-of, a minimum impact,
  ordered by impact, page 50) p50/p95 over gRPC, beside the same two
  statements (page and total count, counted as the server does, no further
  than its default limit of 10,000) run directly with asyncpg: the limit;
- GetProject calls per second (a project with a team of five) beside a bare
  grpc.aio echo server in another subprocess, driven by the same client;
- the same GetProject on a second replica of the same store that requires a
  token (a static one), with the token: what authentication, authorisation
  and the audit scope cost, alternated with the first replica;
- on that replica, with the token (every interceptor on), GetProject and
  GetArtifact (an artifact with three tags) each beside the echo server in
  the same rounds, and each one's p50/p99 latency with 32 calls in flight.

Targets: search p95 <= 10 ms and <= 2x raw SQL; GetProject >= 50% of the
echo server's rate (issue #2); a token costs GetProject at most 5% of its
rate (issue #11); GetProject and GetArtifact with a token each >= 0.8 of the
echo server's rate (issue #15). MAESTRO_ARTIFACT_CACHE_SIZE=0 in the
environment measures GetArtifact uncached. The last line is one JSON object.

    .venv/bin/python bench/registry.py [--artifacts 100000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import asyncpg
import grpc
import grpc.aio
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import ADMIN_URL, free_port  # noqa: E402
from maestro.registry.v1 import artifact_pb2 as ap  # noqa: E402
from maestro.registry.v1 import project_pb2 as pp  # noqa: E402
from maestro.registry.v1 import registry_service_pb2 as rs  # noqa: E402
from maestro.registry.v1 import registry_service_pb2_grpc as rsg  # noqa: E402
from maestro_grpc.registry.store.search import search_text, search_words  # noqa: E402

TYPES = [
    "model",
    "dataset",
    "feature_pipeline",
    "notebook",
    "code",
    "config",
    "prompt",
    "report",
    "other",
]
PROTO_TYPES = [
    cast("ap.ArtifactType", ap.ArtifactType.Value("ARTIFACT_TYPE_" + t.upper())) for t in TYPES
]
VOCABULARY = [f"tag{i:03d}" for i in range(300)]


# The server's default MAESTRO_SEARCH_COUNT_LIMIT: totals beyond it are lower bounds.
COUNT_LIMIT = 10_000

# Rounds of GetProject on each replica, alternated.
ROUNDS = 10
# The static token of the replica that requires one (a bench's own: never a real secret).
BENCH_TOKEN = "bench-token-" + "0" * 32


def zipf_tags(rng: np.random.Generator, n: int) -> list[list[str]]:
    ranks = np.arange(1, len(VOCABULARY) + 1)
    weights = 1.0 / ranks**1.1
    weights /= weights.sum()
    counts = rng.integers(1, 7, size=n)
    return [list(dict.fromkeys(rng.choice(VOCABULARY, size=c, p=weights))) for c in counts]


async def load(url: str, n: int, start: int = 0) -> None:
    """COPY `n` artifacts (numbered from `start`) straight into the table."""
    rng = np.random.default_rng(7 + start)
    tags = zipf_tags(rng, n)
    impact = rng.beta(2, 5, size=n) * 100
    usage = rng.poisson(3, size=n)
    types = rng.integers(0, len(TYPES), size=n)
    now = datetime.now(UTC)
    rows = []
    for i in range(n):
        name, version = f"artifact-{start + i}", "1.0.0"
        description = f"benchmark artifact number {start + i} of type {TYPES[types[i]]}"
        rows.append(
            (
                uuid.uuid4(),
                name,
                version,
                TYPES[types[i]],
                description,
                tags[i],
                None,
                "bench",
                "{}",
                "",
                0,
                "",
                int(usage[i]),
                float(impact[i]),
                search_text(name, version, description, tags[i]),
                now - timedelta(seconds=n - i),
                now - timedelta(seconds=n - i),
                None,
            )
        )
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "artifacts",
            records=rows,
            columns=[
                "id",
                "name",
                "version",
                "type",
                "description",
                "tags",
                "origin_project_id",
                "creator",
                "metadata",
                "content_sha256",
                "size_bytes",
                "storage_uri",
                "usage_count",
                "impact_score",
                "search_text",
                "create_time",
                "update_time",
                "delete_time",
            ],
        )
        # What autovacuum does soon after a bulk load in production.
        await conn.execute("VACUUM ANALYZE artifacts")
    finally:
        await conn.close()


# The searches measured, each beside its raw SQL: (name, request maker, SQL filter,
# SQL parameters of a request). Every one ordered by impact, page 50, with its total.
SearchKind = tuple[
    str,
    Callable[[random.Random], rs.SearchArtifactsRequest],
    str,
    Callable[[rs.SearchArtifactsRequest], tuple[object, ...]],
]
POPULAR = VOCABULARY[:60]
SEARCH_KINDS: list[SearchKind] = [
    (
        "",  # type + tags any-of + min impact: the first query, its keys unprefixed
        lambda rng: rs.SearchArtifactsRequest(
            types=[rng.choice(PROTO_TYPES)],
            tags_any=rng.sample(POPULAR, rng.choice([2, 3])),
            min_impact_score=rng.choice([10.0, 20.0, 30.0, 40.0]),
            page_size=50,
        ),
        "type = ANY($1::text[]) AND tags && $2::text[] AND impact_score >= $3",
        lambda r: ([TYPES[PROTO_TYPES.index(r.types[0])]], list(r.tags_any), r.min_impact_score),
    ),
    (
        "tags_any_",
        lambda rng: rs.SearchArtifactsRequest(
            tags_any=rng.sample(POPULAR, rng.choice([2, 3])), page_size=50
        ),
        "tags && $1::text[]",
        lambda r: (list(r.tags_any),),
    ),
    (
        "tags_all_",
        lambda rng: rs.SearchArtifactsRequest(tags_all=rng.sample(POPULAR[:20], 2), page_size=50),
        "tags @> $1::text[]",
        lambda r: (sorted(set(r.tags_all)),),
    ),
    (
        "text_",
        lambda rng: rs.SearchArtifactsRequest(
            query=f"{rng.choice(POPULAR)} {rng.choice(TYPES).split('_')[0]}", page_size=50
        ),
        "search_vector @@ to_tsquery('simple', $1)",
        lambda r: (" & ".join(f"{w}:*" for w in search_words(r.query)),),
    ),
]
COLUMNS = """id, name, version, type, description, tags, origin_project_id, creator, metadata,
       content_sha256, size_bytes, storage_uri, usage_count, impact_score, create_time,
       update_time, delete_time"""


def search_requests(rng: random.Random, k: int) -> list[rs.SearchArtifactsRequest]:
    return [SEARCH_KINDS[0][1](rng) for _ in range(k)]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


async def measure_search(
    address: str,
    url: str,
    requests: list[rs.SearchArtifactsRequest],
    kind: SearchKind = SEARCH_KINDS[0],
) -> dict[str, float]:
    """p50/p95 of the requests over gRPC, then of the same page and count in raw SQL."""
    prefix, _, where, params_of = kind
    grpc_ms: list[float] = []
    async with grpc.aio.insecure_channel(address) as channel:
        stub = rsg.RegistryServiceStub(channel)
        for request in requests[:50]:  # warm up
            await stub.SearchArtifacts(request)
        for request in requests:
            started = time.perf_counter()
            await stub.SearchArtifacts(request)
            grpc_ms.append((time.perf_counter() - started) * 1000)
    sql_ms: list[float] = []
    conn = await asyncpg.connect(url)
    try:
        page = await conn.prepare(
            f"SELECT {COLUMNS} FROM artifacts WHERE delete_time IS NULL AND {where} "
            "ORDER BY impact_score DESC, id DESC LIMIT 51"
        )
        # The total as the server counts it: no further than its count limit.
        count = await conn.prepare(
            f"SELECT count(*) FROM (SELECT id FROM artifacts WHERE delete_time IS NULL "
            f"AND {where} LIMIT {COUNT_LIMIT + 1}) AS counted"
        )
        params = [params_of(r) for r in requests]
        for p in params[:50]:
            await page.fetch(*p)
            await count.fetchval(*p)
        for p in params:
            started = time.perf_counter()
            await page.fetch(*p)
            await count.fetchval(*p)
            sql_ms.append((time.perf_counter() - started) * 1000)
    finally:
        await conn.close()
    return {
        f"search_{prefix}p50_ms": pct(grpc_ms, 50),
        f"search_{prefix}p95_ms": pct(grpc_ms, 95),
        f"sql_{prefix}p50_ms": pct(sql_ms, 50),
        f"sql_{prefix}p95_ms": pct(sql_ms, 95),
    }


def size_suffix(n: int) -> str:
    """`_1m`, `_100k`, `_10k`: how the JSON names a figure measured at n artifacts."""
    if n % 1_000_000 == 0:
        return f"_{n // 1_000_000}m"
    return f"_{n // 1000}k" if n % 1000 == 0 else f"_{n}"


async def measure_searches(
    address: str, url: str, n: int, searches: int, first_size: bool
) -> dict[str, float]:
    """Every kind of search at the current size (n artifacts), printed as it goes; the
    first kind at the first size also under its unsuffixed keys (as before)."""
    out: dict[str, float] = {}
    for kind in SEARCH_KINDS:
        rng = random.Random(11)
        requests = [kind[1](rng) for _ in range(searches)]
        figures = await measure_search(address, url, requests, kind)
        prefix = kind[0]
        grpc95, sql95 = figures[f"search_{prefix}p95_ms"], figures[f"sql_{prefix}p95_ms"]
        print(
            f"{n:>9,} artifacts, SearchArtifacts {prefix.rstrip('_') or 'type+tags+impact'}: "
            f"p95 {grpc95:.2f} ms (target <= 10), raw SQL p95 {sql95:.2f} ms, "
            f"ratio {grpc95 / sql95:.2f} (target <= 1.5)",
            flush=True,
        )
        if first_size and not prefix:
            out |= figures
        out |= {k + size_suffix(n): v for k, v in figures.items() if "p95" in k}
    return out


async def rate(call: Callable[[], Awaitable[object]], seconds: float, concurrency: int) -> float:
    """Calls per second of `call()` with `concurrency` calls in flight."""
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await call()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


async def get_project_rate(address: str, project_id: str, seconds: float, token: str = "") -> float:
    """GetProject calls per second on one replica (with a bearer token, if given).

    Without a token the calls carry a header of the same size the server
    ignores, so that the client does the same work either way and the
    difference is the server's.
    """
    if token:
        metadata = (("authorization", f"Bearer {token}"),)
    else:
        metadata = (("x-bench-padding", "Bearer " + "x" * len(BENCH_TOKEN)),)
    async with grpc.aio.insecure_channel(address) as channel:
        stub = rsg.RegistryServiceStub(channel)
        request = rs.GetProjectRequest(project_id=project_id)
        await rate(lambda: stub.GetProject(request, metadata=metadata), 0.3, 32)  # warm up
        return await rate(lambda: stub.GetProject(request, metadata=metadata), seconds, 32)


async def timed_calls(
    call: Callable[[], Awaitable[object]], seconds: float, concurrency: int = 32
) -> tuple[float, list[float]]:
    """Calls per second of `call()` with `concurrency` in flight, and each call's seconds."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        while (began := time.perf_counter()) < stop:
            await call()
            latencies.append(time.perf_counter() - began)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies) / (time.perf_counter() - started), latencies


async def measure_get_project(
    address: str, authed_address: str, echo_address: str, seconds: float
) -> dict[str, float]:
    """GetProject's rate without tokens and, on a replica that requires one, with a token;
    GetArtifact's with a token; a bare echo server's; alternated ROUNDS times so that
    all see the same machine, each compared with the echo of its own round."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = rsg.RegistryServiceStub(channel)
        project = (
            await stub.CreateProject(
                rs.CreateProjectRequest(project=pp.Project(name=f"bench-{uuid.uuid4().hex[:6]}"))
            )
        ).project
        for i in range(5):
            await stub.AddTeamMember(
                rs.AddTeamMemberRequest(
                    project_id=project.id,
                    team_member=pp.TeamMember(
                        person_id=f"p{i}", role=pp.TEAM_ROLE_ML_ENGINEER, skills=["python"]
                    ),
                )
            )
        artifact = (
            await stub.CreateArtifact(
                rs.CreateArtifactRequest(
                    artifact=ap.Artifact(
                        name=f"bench-get-{uuid.uuid4().hex[:6]}",
                        version="1",
                        type=ap.ARTIFACT_TYPE_MODEL,
                        description="a model the benchmark reads",
                        tags=["tag001", "tag002", "tag003"],
                        origin_project_id=project.id,
                    )
                )
            )
        ).artifact
    request = rs.GetProjectRequest(project_id=project.id)
    token = (("authorization", f"Bearer {BENCH_TOKEN}"),)
    plain: list[float] = []
    authed: list[float] = []
    echo_rates: list[float] = []
    artifact_ratios: list[float] = []
    project_ratios: list[float] = []
    lat: dict[str, list[float]] = {"echo": [], "get_project": [], "get_artifact": []}
    async with (
        grpc.aio.insecure_channel(echo_address) as echo_channel,
        grpc.aio.insecure_channel(authed_address) as authed_channel,
    ):
        echo = echo_channel.unary_unary(
            "/bench.Echo/Echo",
            request_serializer=rs.GetProjectRequest.SerializeToString,
            response_deserializer=rs.GetProjectRequest.FromString,
        )
        authed_stub = rsg.RegistryServiceStub(authed_channel)
        get_artifact = rs.GetArtifactRequest(artifact_id=artifact.id)

        def echo_call() -> Awaitable[object]:
            return echo(request)

        def artifact_call() -> Awaitable[object]:
            return authed_stub.GetArtifact(get_artifact, metadata=token)

        def project_call() -> Awaitable[object]:
            return authed_stub.GetProject(request, metadata=token)

        for warm in (echo_call, artifact_call, project_call):
            await timed_calls(warm, 0.3)
        share = seconds / ROUNDS
        for _ in range(ROUNDS):
            plain.append(await get_project_rate(address, project.id, share))
            authed.append(await get_project_rate(authed_address, project.id, share, BENCH_TOKEN))
            echo_rate, echo_lat = await timed_calls(echo_call, share)
            project_rate, project_lat = await timed_calls(project_call, share)
            artifact_rate, artifact_lat = await timed_calls(artifact_call, share)
            echo_rates.append(echo_rate)
            project_ratios.append(project_rate / echo_rate)
            artifact_ratios.append(artifact_rate / echo_rate)
            lat["echo"] += echo_lat
            lat["get_project"] += project_lat
            lat["get_artifact"] += artifact_lat
    # Short rounds, alternated, compared pairwise: what the machine does
    # meanwhile moves all of them alike.
    get_rate = statistics.median(plain)
    authed_rate = get_rate * statistics.median(a / p for a, p in zip(authed, plain, strict=True))
    echo_rate = statistics.median(echo_rates)
    figures = {
        "get_project_per_s": get_rate,
        "get_project_authed_per_s": authed_rate,
        "echo_per_s": echo_rate,
        "get_project_authed_vs_echo": statistics.median(project_ratios),
        "get_artifact_authed_per_s": echo_rate * statistics.median(artifact_ratios),
        "get_artifact_authed_vs_echo": statistics.median(artifact_ratios),
    }
    for name, values in lat.items():
        ms = [v * 1000 for v in values]
        figures[f"{name}_p50_ms"] = pct(ms, 50)
        figures[f"{name}_p99_ms"] = pct(ms, 99)
    return figures


async def echo_server(port: int) -> None:
    async def echo(request: bytes, context: object) -> bytes:
        return request

    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
            ),
        )
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("echo ready", flush=True)
    await server.wait_for_termination()


def wait_port(port: int, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--artifacts", type=int, default=100_000)
    parser.add_argument(
        "--sizes",
        help="comma-separated artifact counts to grow through, measuring searches at each "
        "(for example 10000,100000,1000000); default: --artifacts",
    )
    parser.add_argument("--searches", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--echo-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo_server:
        await echo_server(args.echo_server)
        return

    name = f"maestro_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    processes: list[subprocess.Popen[bytes]] = []
    try:
        env = {**os.environ, "MAESTRO_DATABASE_URL": url}
        subprocess.run(
            [sys.executable, "-m", "maestro_grpc", "migrate"],
            env=env,
            check=True,
            capture_output=True,
        )
        port, authed_port, echo_port = free_port(), free_port(), free_port()
        for serving, tokens in ((port, ""), (authed_port, f"bench={BENCH_TOKEN}")):
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "maestro_grpc", "serve"],
                    env={
                        **env,
                        "MAESTRO_PORT": str(serving),
                        "MAESTRO_HOST": "127.0.0.1",
                        "MAESTRO_METRICS_PORT": "off",
                        "MAESTRO_WEB_PORT": "off",
                        "MAESTRO_AUTH_TOKENS": tokens,
                    },
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        processes.append(
            subprocess.Popen(
                [sys.executable, __file__, "--echo-server", str(echo_port)],
                stdout=subprocess.DEVNULL,
            )
        )
        wait_port(port)
        wait_port(authed_port)
        wait_port(echo_port)

        sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else [args.artifacts]
        figures: dict[str, float] = {}
        loaded = 0
        for n in sorted(sizes):
            started = time.perf_counter()
            # Straight into the table with COPY (not through CreateArtifact).
            await load(url, n - loaded, start=loaded)
            loaded = n
            print(
                f"loaded {n:,} artifacts (COPY) in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
                flush=True,
            )
            figures |= await measure_searches(
                f"127.0.0.1:{port}", url, n, args.searches, first_size=not figures
            )
        figures |= await measure_get_project(
            f"127.0.0.1:{port}", f"127.0.0.1:{authed_port}", f"127.0.0.1:{echo_port}", args.seconds
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        admin = await asyncpg.connect(ADMIN_URL)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    search_ratio = figures["search_p95_ms"] / figures["sql_p95_ms"]
    get_ratio = figures["get_project_per_s"] / figures["echo_per_s"]
    auth_cost = 1 - figures["get_project_authed_per_s"] / figures["get_project_per_s"]
    f = figures
    print(
        f"SearchArtifacts p50 {f['search_p50_ms']:.2f} ms, p95 {f['search_p95_ms']:.2f} ms "
        f"(target <= 10 ms); raw SQL p95 {f['sql_p95_ms']:.2f} ms; "
        f"ratio {search_ratio:.2f} (target <= 2)"
    )
    print(
        f"GetProject {f['get_project_per_s']:.0f}/s; bare echo {f['echo_per_s']:.0f}/s; "
        f"ratio {get_ratio:.2f} (target >= 0.5)"
    )
    print(
        f"GetProject with a token (checked, authorised, audited scope) "
        f"{f['get_project_authed_per_s']:.0f}/s: costs {auth_cost:.1%} of its rate (target <= 5%)"
    )
    print(
        f"with a token, beside the echo of the same rounds (target >= 0.8 each): "
        f"GetProject {f['get_project_authed_vs_echo']:.2f} x echo, "
        f"GetArtifact {f['get_artifact_authed_per_s']:.0f}/s = "
        f"{f['get_artifact_authed_vs_echo']:.2f} x echo; p50/p99 ms: echo "
        f"{f['echo_p50_ms']:.2f}/{f['echo_p99_ms']:.2f}, GetProject "
        f"{f['get_project_p50_ms']:.2f}/{f['get_project_p99_ms']:.2f}, GetArtifact "
        f"{f['get_artifact_p50_ms']:.2f}/{f['get_artifact_p99_ms']:.2f} (32 in flight)"
    )
    figures["search_p95_vs_sql"] = search_ratio
    figures["get_project_vs_echo"] = get_ratio
    figures["auth_cost"] = auth_cost
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}))


if __name__ == "__main__":
    asyncio.run(main())
