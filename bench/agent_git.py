"""Agent benchmark: a git backfill end to end, beside `git log --numstat` alone.

Generates a repository of 50,000 commits (git fast-import: three authors,
merged pull requests every 100 commits, 1-3 files changed per commit), starts
`maestro serve` in a subprocess on a store of its own (PostgreSQL when one
answers at MAESTRO_BENCH_DATABASE_URL or the local default, else SQLite, or
as --store says), and measures in the same run:

- the limit: `git log --numstat` of the whole history into /dev/null;
- the agent: `maestro agent git` on that repository, from a fresh state dir
  to the last ack (walk, spool with fsync, stream, durable store), timed
  from the outside around the whole subprocess.

Target (issue #4): commits/s end to end >= a quarter of git's own rate. The
end-to-end rate includes the Metrics service's ingest of commit events, so
the agent's own side is also reported: the same walk and spool without
sending (`--spool-only`).

Then (issue #16) what a CI job with a new state dir costs once the server
has the history: NEW commits are added and the agent runs again from a fresh
state dir; it asks GetRepositoryHeads where to start and must send exactly
the new commits. Its time is printed beside the first run's. The last line
is one JSON object.

    .venv/bin/python bench/agent_git.py [--commits 50000] [--store postgresql|sqlite]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import ADMIN_URL  # noqa: E402
from tests.agent.history import generate_history  # noqa: E402
from tests.agent.live import LiveServer, event_counts  # noqa: E402


def _pg_database() -> tuple[str, str] | None:
    try:
        import psycopg

        name = f"maestro_bench_agent_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as error:
        print(f"no PostgreSQL ({error}); using SQLite", file=sys.stderr)
        return None
    return f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}", name


def _drop(name: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(url: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "maestro_grpc", "migrate", "--database-url", url],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def _git_log_seconds(repo: Path) -> float:
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        subprocess.run(
            ["git", "-C", str(repo), "log", "--numstat", "--format=%H %P %ae %at %s"],
            stdout=sink,
            check=True,
        )
    return time.perf_counter() - started


def _agent(address: str, state: Path, repo: Path, project: str, *extra: str) -> dict[str, object]:
    env = {
        **os.environ,
        "MAESTRO_ADDRESS": address,
        "MAESTRO_AGENT_STATE_DIR": str(state),
        "MAESTRO_AGENT_DEADLINE_SECONDS": "600",
    }
    result = subprocess.run(
        [sys.executable, "-m", "maestro_grpc", "agent", "git", "--repo", str(repo),
         "--project", project, "--json", *extra],
        env=env, cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"agent failed ({result.returncode}): {result.stderr}{result.stdout}")
    summary: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return summary


def _add_commits(repo: Path, count: int) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null",
    }
    for i in range(count):
        (repo / "bench-new.txt").write_text(f"{i}\n")
        subprocess.run(["git", "-C", str(repo), "add", "bench-new.txt"], check=True, env=env)
        subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", f"new {i}"],
                       check=True, env=env)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=50_000)
    parser.add_argument("--store", choices=["postgresql", "sqlite"], default=None)
    parser.add_argument("--new", type=int, default=20, help="commits added before the rerun")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="maestro-bench-agent-"))
    repo = work / "repo"
    started = time.perf_counter()
    pulls = generate_history(repo, args.commits)
    print(f"generated {args.commits} commits ({pulls} merged PRs) in "
          f"{time.perf_counter() - started:.1f}s", file=sys.stderr)  # fmt: skip

    # The limit: git's own walk with line counts (best of 3: warm caches).
    git_seconds = min(_git_log_seconds(repo) for _ in range(3))
    git_rate = args.commits / git_seconds

    pg = None if args.store == "sqlite" else _pg_database()
    if args.store == "postgresql" and pg is None:
        raise SystemExit("PostgreSQL requested but not reachable")
    if pg is not None:
        store_url, db_name = pg
        _migrate(store_url)
    else:
        store_url, db_name = f"sqlite+aiosqlite:///{work / 'maestro.db'}", ""
        _migrate(store_url)
    server = LiveServer(store_url, work / "server").start()
    try:
        project = server.create_project()
        # The agent's own side: walk and spool, nothing sent.
        started = time.perf_counter()
        _agent(server.address, work / "spool-only", repo, project, "--spool-only")
        spool_seconds = time.perf_counter() - started

        started = time.perf_counter()
        summary = _agent(server.address, work / "agent", repo, project)
        agent_seconds = time.perf_counter() - started
        stored = event_counts(store_url, project).get("commit", 0)
        # A CI job's next run: a few new commits, a state dir of its own.
        _add_commits(repo, args.new)
        started = time.perf_counter()
        fresh = _agent(server.address, work / "fresh-job", repo, project)
        fresh_seconds = time.perf_counter() - started
        after = event_counts(store_url, project).get("commit", 0)
    finally:
        server.stop()
        if db_name:
            _drop(db_name)
    if stored != args.commits:
        raise SystemExit(f"the store holds {stored} commits, not {args.commits}")
    collected = fresh["collected"]
    assert isinstance(collected, dict)
    if collected["commits"] != args.new or after != args.commits + args.new:
        raise SystemExit(
            f"the fresh state dir walked {collected['commits']} commits (not {args.new}); "
            f"the store holds {after}"
        )

    rate = args.commits / agent_seconds
    spool_rate = args.commits / spool_seconds
    store = "postgresql" if db_name else "sqlite"
    delivery = summary["delivery"]
    assert isinstance(delivery, dict)
    print(f"store: {store}; {delivery['batches_acked']} batches acked")
    print(f"git log --numstat alone:        {git_rate:10,.0f} commits/s ({git_seconds:.2f}s)")
    print(f"agent walk + spool (no send):   {spool_rate:10,.0f} commits/s ({spool_seconds:.2f}s)"
          f"  = {spool_rate / git_rate:.2f} x git")  # fmt: skip
    print(f"agent end to end (to last ack): {rate:10,.0f} commits/s ({agent_seconds:.2f}s)"
          f"  = {rate / git_rate:.2f} x git (target >= 0.25)")  # fmt: skip
    print(f"fresh state dir, {args.new} new:      {fresh_seconds:10.2f}s "
          f"({collected.get('server_heads')} server heads) beside {agent_seconds:.2f}s "
          f"for the first run")  # fmt: skip
    print(
        json.dumps(
            {
                "commits_per_s": round(rate, 1),
                "first_run_seconds": round(agent_seconds, 2),
                "fresh_state_dir_seconds": round(fresh_seconds, 2),
                "fresh_state_dir_commits": collected["commits"],
                "new_commits": args.new,
                "git_log_commits_per_s": round(git_rate, 1),
                "ratio": round(rate / git_rate, 3),
                "spool_only_commits_per_s": round(spool_rate, 1),
                "store": store,
                "commits": args.commits,
            }
        )
    )


if __name__ == "__main__":
    main()
