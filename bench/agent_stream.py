"""Agent benchmark: `maestro agent stream` (JSON lines on stdin) beside a direct client.

Makes a PostgreSQL database of its own, starts `maestro serve` on it in a
subprocess, and measures in the same run, on the same points (10 metric
names, one point every 10 ms per name, a third of them with a label):

- the limit: one direct StreamMetrics client in this process sending the
  points in columnar batches of 5,000 (what the agent's batches hold), a
  point counting when its batch is acked;
- the agent: `maestro agent stream --project P --json < points.jsonl` from a
  fresh state dir, timed from the outside around the whole subprocess (start
  up, parse, spool with fdatasync, stream, last ack), and checked: every line
  acked and stored once.

Then `maestro agent git` on a generated history (--git-commits, 1-3 files
changed per commit, a merged pull request every 100), from a fresh state
dir, timed the same way. For git a "point" is what goes on the wire and is
stored as one row: a commit event (its line counts, files and parents ride
in it; a merge's pull request is one more). Its limit is not the stream but
reading the history: `git log --numstat` alone (best of three) is printed
beside it.

Target (issue #15): >= 150,000 points/s through the agent. The last line is
one JSON object.

    .venv/bin/python bench/agent_stream.py [--points 1000000] [--git-commits 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import grpc
import grpc.aio
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import create_database, drop_database, free_port, migrate, start_server  # noqa: E402
from maestro.metrics.v1 import metric_pb2 as mp  # noqa: E402
from maestro.metrics.v1 import metrics_service_pb2 as ms  # noqa: E402
from maestro.metrics.v1 import metrics_service_pb2_grpc as msg  # noqa: E402

NAMES = [f"bench.metric_{i}" for i in range(10)]
START_US = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp()) * 1_000_000
TARGET = 150_000
BATCH = 5000


def point_rows(n: int) -> list[tuple[int, int, float, int]]:
    """(name index, time in us, value, label set: 0 none, 1 {"host": "a"})."""
    return [
        (
            i % len(NAMES),
            START_US + (i // len(NAMES)) * 10_000,
            round(100 + (i % 977) * 0.25, 2),
            i % 3 == 0,
        )
        for i in range(n)
    ]


def json_lines(rows: list[tuple[int, int, float, int]]) -> bytes:
    out = []
    for name, micros, value, labelled in rows:
        when = datetime.fromtimestamp(micros / 1e6, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        line: dict[str, object] = {"name": NAMES[name], "value": value, "time": when}
        if labelled:
            line["labels"] = {"host": "a"}
        out.append(json.dumps(line))
    return ("\n".join(out) + "\n").encode()


def column_batches(project: str, rows: list[tuple[int, int, float, int]]) -> list[mp.MetricBatch]:
    label_sets = [mp.LabelSet(), mp.LabelSet(labels={"host": "a"})]
    out = []
    for start in range(0, len(rows), BATCH):
        part = rows[start : start + BATCH]
        block = mp.MetricColumns(
            project_id=project, source=mp.METRIC_SOURCE_AGENT, names=NAMES, label_sets=label_sets
        )
        block.name_indexes.extend(r[0] for r in part)
        block.times_unix_micros.extend(r[1] for r in part)
        block.values.extend(r[2] for r in part)
        block.label_set_indexes.extend(int(r[3]) for r in part)
        out.append(mp.MetricBatch(columns=[block]))
    return out


async def direct_rate(address: str, project: str, work: list[mp.MetricBatch]) -> float:
    """One StreamMetrics call keeping the server's window full: points/s to the last ack."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = msg.MetricsServiceStub(channel)
        started = time.perf_counter()
        call = stub.StreamMetrics(None)
        await call.write(ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id="bench-direct")))
        first = await call.read()
        if not isinstance(first, ms.StreamMetricsResponse):
            raise SystemExit(f"the direct stream ended before it opened: {await call.code()}")
        window = asyncio.Semaphore(first.opened.max_inflight_batches)
        stored = 0

        async def reader() -> None:
            nonlocal stored
            while True:
                response = await call.read()
                if not isinstance(response, ms.StreamMetricsResponse):
                    return
                stored += response.ack.stored_points
                window.release()

        task = asyncio.create_task(reader())
        for seq, batch in enumerate(work, start=first.opened.committed_sequence + 1):
            await window.acquire()
            await call.write(
                ms.StreamMetricsRequest(batch=ms.StreamBatch(sequence=seq, batch=batch))
            )
        await call.done_writing()
        await task
        elapsed = time.perf_counter() - started
    expected = sum(len(b.columns[0].values) for b in work)
    if stored != expected:
        raise SystemExit(f"the direct stream stored {stored} points of {expected}")
    return expected / elapsed


async def create_project(address: str) -> str:
    from maestro.registry.v1 import project_pb2, registry_service_pb2, registry_service_pb2_grpc

    async with grpc.aio.insecure_channel(address) as channel:
        stub = registry_service_pb2_grpc.RegistryServiceStub(channel)
        reply = await stub.CreateProject(
            registry_service_pb2.CreateProjectRequest(
                project=project_pb2.Project(name=f"bench-{uuid.uuid4().hex[:8]}")
            ),
            timeout=10,
        )
    return str(reply.project.id)


def stored_points(url: str, project: str) -> int:
    with psycopg.connect(url.replace("postgresql+asyncpg://", "postgresql://")) as conn:
        row = conn.execute(
            "SELECT count(*) FROM metric_points p JOIN metric_series s ON s.id = p.series_id "
            "WHERE s.project_id = %s",
            (project,),
        ).fetchone()
    return int(row[0]) if row else 0


def agent_rate(
    address: str, project: str, lines: Path, n: int, state: Path
) -> tuple[float, dict[str, object]]:
    """`maestro agent stream` on the lines, from a fresh state dir: points/s, and its summary."""
    env = {**os.environ, "MAESTRO_ADDRESS": address, "MAESTRO_AGENT_STATE_DIR": str(state)}
    command = [
        sys.executable,
        "-m",
        "maestro_grpc",
        "agent",
        "stream",
        "--project",
        project,
        "--json",
    ]
    # For profiling: MAESTRO_BENCH_AGENT_WRAP="py-spy record -f raw -o agent.txt --"
    command[:0] = shlex.split(os.environ.get("MAESTRO_BENCH_AGENT_WRAP", ""))
    with open(lines, "rb") as stdin:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, stdin=stdin, capture_output=True, env=env, cwd=ROOT)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(
            f"maestro agent stream exited {done.returncode}: {done.stderr.decode()[-2000:]}"
        )
    out = [line for line in done.stdout.decode().splitlines() if line.startswith("{")]
    summary = json.loads(out[-1])
    if summary["acked"] != n:
        raise SystemExit(f"the agent acked {summary['acked']} points of {n}")
    summary["cpu_seconds"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return n / elapsed, summary


def git_rates(address: str, url: str, project: str, commits: int, work: Path) -> dict[str, float]:
    """`maestro agent git` on a generated history of `commits`: its rows/s, git log's
    commits/s, and what the store holds (each commit once)."""
    from tests.agent.history import generate_history
    from tests.agent.live import event_counts

    repo = work / "repo"
    pulls = generate_history(repo, commits)
    git_seconds = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(
            ["git", "-C", str(repo), "log", "--numstat", "-z", "--format=%H%x00%P%x00%ae%x00%s"],
            stdout=subprocess.DEVNULL,
            check=True,
        )
        git_seconds = min(git_seconds, time.perf_counter() - started)
    env = {**os.environ, "MAESTRO_ADDRESS": address, "MAESTRO_AGENT_STATE_DIR": str(work / "s")}
    command = [sys.executable, "-m", "maestro_grpc", "agent", "git", "--repo", str(repo)]
    command += ["--project", project, "--json"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=env, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        why = done.stderr.decode()[-2000:]
        raise SystemExit(f"maestro agent git exited {done.returncode}: {why}")
    stored = event_counts(url, project)
    if stored.get("commit") != commits or stored.get("pull_request") != pulls:
        raise SystemExit(f"the store holds {stored}, not {commits} commits and {pulls} PRs")
    rows = commits + pulls
    return {"rows_per_s": rows / elapsed, "git_log_per_s": commits / git_seconds, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--git-commits", type=int, default=20_000)
    args = parser.parse_args()
    n = args.points

    url, name = create_database("maestro_bench_agent_stream")
    server = None
    try:
        store_url = url
        migrate(store_url)
        port = free_port()
        server = start_server(store_url, port)
        address = f"127.0.0.1:{port}"
        rows = point_rows(n)
        with tempfile.TemporaryDirectory() as tmp:
            lines = Path(tmp) / "points.jsonl"
            lines.write_bytes(json_lines(rows))
            direct_project = asyncio.run(create_project(address))
            agent_project = asyncio.run(create_project(address))
            direct = asyncio.run(
                direct_rate(address, direct_project, column_batches(direct_project, rows))
            )
            print(
                f"direct StreamMetrics (columns, batches of {BATCH}): {direct:,.0f} points/s",
                flush=True,
            )
            rate, summary = agent_rate(address, agent_project, lines, n, Path(tmp) / "state")
            git_project = asyncio.run(create_project(address))
            git = git_rates(address, url, git_project, args.git_commits, Path(tmp) / "git")
        stored = stored_points(url, agent_project)
        if stored != n:
            raise SystemExit(f"the store holds {stored} of the agent's {n} points")
        print(
            f"maestro agent stream ({n:,} JSON lines, spooled with fdatasync, start-up included): "
            f"{rate:,.0f} points/s = {rate / direct:.2f} x the direct client "
            f"(target >= {TARGET:,}/s: {rate / TARGET:.2f} x the target); "
            f"stored once each: {stored:,}",
            flush=True,
        )
        cpu = float(summary["cpu_seconds"])  # type: ignore[arg-type]
        print(
            f"the agent's own CPU: {cpu:.2f} s, {cpu / n * 1e6:.2f} us per point "
            f"(a core of its own would allow {n / cpu:,.0f} points/s; "
            f"the machine's load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)",
            flush=True,
        )
        print(
            f"maestro agent git ({args.git_commits:,} commits, fresh state dir, start-up "
            f"included): {git['rows_per_s']:,.0f} rows/s (a row: one commit or pull request "
            f"event) = {git['rows_per_s'] / TARGET:.2f} x the target; git log --numstat alone "
            f"reads {git['git_log_per_s']:,.0f} commits/s, so the agent is at "
            f"{git['rows_per_s'] / git['git_log_per_s']:.2f} x git's own walk",
            flush=True,
        )
        print(
            json.dumps(
                {
                    "agent_git_rows_per_s": round(git["rows_per_s"]),
                    "git_log_commits_per_s": round(git["git_log_per_s"]),
                    "agent_git_vs_git_log": round(git["rows_per_s"] / git["git_log_per_s"], 3),
                    "agent_stream_points_per_s": round(rate),
                    "direct_points_per_s": round(direct),
                    "ratio": round(rate / direct, 3),
                    "target_points_per_s": TARGET,
                    "points": n,
                    "stored": stored,
                    "duplicates": summary["duplicates"],
                    "agent_cpu_us_per_point": round(cpu / n * 1e6, 2),
                }
            )
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        drop_database(name)


if __name__ == "__main__":
    main()
