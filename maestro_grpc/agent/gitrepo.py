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
FIELDS = 7  # the tokens FORMAT prints (its last NUL ends the subject)
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
    """The commit `rev` names, or None when it names none."""
    out = git(repo, "rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False).strip()
    return out or None


def existing_commits(repo: Path, shas: list[str]) -> set[str]:
    """Those of `shas` that name commits in the repository (one git call)."""
    if not shas:
        return set()
    result = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch-check=%(objectname) %(objecttype)"],
        input="".join(f"{sha}\n" for sha in shas),
        capture_output=True,
        text=True,
        env={**os.environ, **_GIT_ENV},
        check=False,
    )
    found = set()
    for line in result.stdout.splitlines():
        name, _, kind = line.partition(" ")
        if kind == "commit":
            found.add(name)
    return found


def has_commits(repo: Path) -> bool:
    """Whether any ref of the repository names a commit (an empty one has none)."""
    return bool(git(repo, "rev-list", "-n", "1", "--all", check=False).strip())


def head_commit(repo: Path, rev: str) -> str | None:
    """The commit a walk starts from: None for HEAD of an empty repository
    (nothing to send); an error for a revision that names no commit."""
    sha = resolve(repo, rev)
    if sha is None and (rev != "HEAD" or has_commits(repo)):
        raise GitError(f"--rev {rev!r} does not name a commit in {repo}")
    return sha


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


class _LogParser:
    r"""`git log --numstat -z` output -> commits, one NUL-separated token at a time.

    Each commit is FORMAT's fields (a fixed number of tokens: no field can
    hold a NUL, git ends a message at one), then its numstat entries
    (`added\tdeleted\tpath`, or `added\tdeleted\t` and two path tokens for a
    rename). The parser knows at every token which of these it reads: the
    subject, names and paths are taken by position, never searched for a
    separator, so no byte in a message or a path can cut a commit short. A
    token starting with \x1e where an entry could start begins the next
    commit (an entry starts with a digit, `-` or a newline)."""

    def __init__(self, boundary: set[str]) -> None:
        self.boundary = boundary
        self.fields: list[bytes] = []
        self.commit: GitCommit | None = None
        self.rename_paths = 0  # path tokens of a rename still to read

    def feed(self, token: bytes) -> GitCommit | None:
        """Take one token; the commit it completed, if any."""
        if 0 < len(self.fields) < FIELDS:
            self.fields.append(token)
            if len(self.fields) == FIELDS:
                self.commit = _header(self.fields, self.boundary)
            return None
        if self.rename_paths:
            self.rename_paths -= 1
            if self.rename_paths == 0:  # the new path
                self._add_path(token)
            return None
        if token.startswith(b"\x1e"):
            done = self.finish()
            self.fields = [token[1:]]
            return done
        entry = token.lstrip(b"\n")
        if not entry:
            return None
        added, _, rest = entry.partition(b"\t")
        deleted, _, path = rest.partition(b"\t")
        commit = self.commit
        if commit is not None and not commit.shallow_boundary:
            commit.files_changed += 1
            if added != b"-":
                commit.additions += int(added or 0)
                commit.deletions += int(deleted or 0)
        if path:
            self._add_path(path)
        else:
            self.rename_paths = 2
        return None

    def _add_path(self, path: bytes) -> None:
        commit = self.commit
        if commit is not None and not commit.shallow_boundary and len(commit.files) < MAX_FILES:
            commit.files.append(path.decode(errors="replace"))

    def finish(self) -> GitCommit | None:
        done, self.commit, self.fields = self.commit, None, []
        return done


def _header(fields: list[bytes], boundary: set[str]) -> GitCommit | None:
    """FORMAT's fields as a commit (no counts yet); None for what is not one."""
    if not _HEX.match(fields[0]):
        return None
    sha = fields[0].decode()
    commit = GitCommit(
        sha=sha,
        parents=fields[1].decode().split(),
        author=fields[2].decode(errors="replace") or fields[3].decode(errors="replace"),
        author_time=int(fields[4] or 0),
        commit_time=int(fields[5] or 0),
        summary=fields[6].decode(errors="replace")[:MAX_SUMMARY],
    )
    if sha in boundary:
        # A shallow clone's boundary: its parents are unknown, and its diff
        # (against nothing: the whole tree) is not its change.
        commit.shallow_boundary = True
        commit.parents = []
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
        parser = _LogParser(boundary)
        for token in _tokens(process.stdout):
            done = parser.feed(token)
            if done is not None:
                yield done
        last = parser.finish()
        if last is not None:
            yield last
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


def _tokens(stdout: IO[bytes]) -> Iterator[bytes]:
    """The log's NUL-separated tokens, as they arrive."""
    buffer = b""
    while chunk := stdout.read(1 << 20):
        buffer += chunk
        tokens = buffer.split(b"\0")
        buffer = tokens.pop()
        yield from tokens
    if buffer:
        yield buffer
