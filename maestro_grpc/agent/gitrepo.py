"""Reading a repository with the git command: its log, parsed as it streams, and a
few lookups (is it a repository, what a revision names, what the repository is
called). Why the git command and not a library: see `maestro_grpc.agent.gitlog`.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

MAX_FILES = 1000
MAX_SUMMARY = 500
FORMAT = "%x1e%H%x00%P%x00%ae%x00%an%x00%at%x00%ct%x00%s%x00"
_HEX = re.compile(rb"^[0-9a-f]{40}([0-9a-f]{24})?$")
# No prompt for credentials, and messages in English (we parse a few).
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


class GitError(RuntimeError):
    """git failed, or the path is not a repository."""


@dataclass
class GitCommit:
    """One commit as `git log` printed it."""

    sha: str
    parents: list[str]
    author: str
    author_time: int
    commit_time: int
    summary: str
    files: list[str] = field(default_factory=list)
    additions: int = 0
    deletions: int = 0
    files_changed: int = 0
    shallow_boundary: bool = False


def git(repo: Path, *args: str, check: bool = True) -> str:
    """Run a git command in `repo`; its stdout."""
    result = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **_GIT_ENV},
        check=False,
    )
    if check and result.returncode != 0:
        raise GitError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def check_repository(repo: Path) -> None:
    if not repo.exists():
        raise GitError(f"{repo} does not exist")
    inside = git(repo, "rev-parse", "--is-inside-work-tree", "--is-bare-repository", check=False)
    if "true" not in inside:
        raise GitError(f"{repo} is not a git repository")


def resolve(repo: Path, rev: str) -> str | None:
    """The commit `rev` names, or None (an empty repository has no HEAD)."""
    out = git(repo, "rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False).strip()
    return out or None


def shallow_boundary(repo: Path) -> set[str]:
    path = git(repo, "rev-parse", "--git-path", "shallow").strip()
    shallow = Path(path) if os.path.isabs(path) else repo / path
    try:
        return set(shallow.read_text().split())
    except FileNotFoundError:
        return set()


def normalize_remote(url: str) -> str:
    """`git@github.com:org/repo.git` and `https://x@github.com/org/repo` ->
    `github.com/org/repo`: the same name from every clone."""
    url = url.strip()
    if not url:
        return ""
    scp = re.match(r"^[\w.-]+@([\w.-]+):(?!//)(.+)$", url)
    if scp:
        host, path = scp.group(1), scp.group(2)
    else:
        match = re.match(r"^[a-z+]+://(?:[^@/]+@)?([^/:]+)(?::\d+)?/(.+)$", url)
        if not match:
            return url.removesuffix(".git")
        host, path = match.group(1), match.group(2)
    return f"{host}/{path.strip('/').removesuffix('.git')}"


def repository_name(repo: Path, env: Mapping[str, str]) -> str:
    """The repo field of the events: the origin remote, the CI's name, or the path."""
    remote = git(repo, "remote", "get-url", "origin", check=False).strip()
    if remote:
        return normalize_remote(remote)
    if env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        return normalize_remote(f"{server}/{env['GITHUB_REPOSITORY']}")
    if env.get("CI_PROJECT_URL"):
        return normalize_remote(env["CI_PROJECT_URL"])
    return str(repo.resolve())


def _parse_record(record: bytes, boundary: set[str]) -> GitCommit | None:
    parts = record.split(b"\0")
    if len(parts) < 7 or not _HEX.match(parts[0]):
        return None
    sha = parts[0].decode()
    parents = parts[1].decode().split()
    email, name = parts[2].decode(errors="replace"), parts[3].decode(errors="replace")
    commit = GitCommit(
        sha=sha,
        parents=parents,
        author=email or name,
        author_time=int(parts[4] or 0),
        commit_time=int(parts[5] or 0),
        summary=parts[6].decode(errors="replace")[:MAX_SUMMARY],
    )
    if sha in boundary:
        commit.shallow_boundary = True
        commit.parents = []
        return commit
    # parts[7] is the empty field of -z's terminator; then the numstat entries.
    i = 8
    n = len(parts)
    files = commit.files
    additions = deletions = changed = 0
    while i < n:
        entry = parts[i]
        i += 1
        if not entry or entry == b"\n":
            continue
        entry = entry.lstrip(b"\n")
        added, _, rest = entry.partition(b"\t")
        deleted, _, path = rest.partition(b"\t")
        if not path:
            # A rename: "A\tD\t" then the old and the new path.
            path = parts[i + 1] if i + 1 < n else b""
            i += 2
        changed += 1
        if added != b"-":
            additions += int(added or 0)
            deletions += int(deleted or 0)
        if len(files) < MAX_FILES:
            files.append(path.decode(errors="replace"))
    commit.additions, commit.deletions, commit.files_changed = additions, deletions, changed
    return commit


def iter_commits(
    repo: Path,
    tips: list[str],
    exclude: list[str],
    since: str | None = None,
) -> Iterator[GitCommit]:
    """Commits reachable from `tips` and not from `exclude`, newest first, parsed
    as `git log` prints them."""
    boundary = shallow_boundary(repo)
    process = subprocess.Popen(
        _log_command(repo, tips, exclude, since),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **_GIT_ENV},
    )
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        for record in _records(process.stdout):
            parsed = _parse_record(record, boundary)
            if parsed is not None:
                yield parsed
    finally:
        process.stdout.close()
        stderr = process.stderr.read().decode(errors="replace")
        process.stderr.close()
        code = process.wait()
    if code != 0:
        raise GitError(f"git log failed: {stderr.strip()}")


def _log_command(repo: Path, tips: list[str], exclude: list[str], since: str | None) -> list[str]:
    """git log with line counts (-z: NUL-separated, so no path needs quoting)."""
    args = [
        "git",
        "-C",
        str(repo),
        "-c",
        "core.quotepath=off",
        "log",
        "--numstat",
        "-z",
        "-M",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        f"--format={FORMAT}",
    ]
    if since:
        args.append(f"--since={since}")
    return [*args, *tips, *(f"^{sha}" for sha in exclude), "--"]


def _records(stdout: IO[bytes]) -> Iterator[bytes]:
    """The log's commit records (each starts with FORMAT's \\x1e), as they arrive."""
    buffer = b""
    while chunk := stdout.read(1 << 20):
        buffer += chunk
        records = buffer.split(b"\x1e")
        buffer = records.pop()
        yield from (record for record in records if record)
    if buffer:
        yield buffer
