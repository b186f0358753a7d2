"""The git collector: commits (and merged pull requests) from a repository's history.

It runs `git log --numstat -z -M` and parses the stream as it comes. Measured
on this project's 2-core machine, on a generated 50,000-commit history (1-3
files changed per commit), walking 20,000 commits with line counts:

| way | commits/s |
| --- | --- |
| `git log --numstat -z`, parsed in Python | ~10,900 |
| pygit2 1.21 (libgit2): walk + `diff_to_tree().stats` | ~3,200 |
| dulwich 1.2: walk + `tree_changes` (no line counts yet) | ~1,900 |

so the git command it is (and no extra dependency).

What it handles:
- merges: sent as commits with their parents and no line counts (the lines
  came with the merged commits); a merge whose message names a pull or merge
  request (GitHub "Merge pull request #12 from ...", GitLab "See merge request
  group/project!12", Bitbucket "(pull request #12)"), and a squash-merged
  commit ending in "(#12)", also becomes a merged PullRequest with the commits
  it brought in and the author time of the first of them;
- renames (`-M`): the new path is listed, the changed lines counted;
- binary files: listed, no line counts (git prints `-`);
- empty repositories: nothing to send;
- shallow clones: the boundary commits have no known parents, so their
  (whole-tree) diff is not counted: they are sent with no files and no lines;
- GitHub's synthetic `Merge <sha> into <sha>` commit of pull-request builds is
  not part of any branch and is skipped.

Incremental: the state dir keeps the tips walked by the last run (a cursor per
project and repository); the next run walks `HEAD --not <tips>`. Without a
cursor (`--full`, a new state dir) the whole history is walked again, which is
correct, only slower: commits have a natural key (repo, sha) and the server
stores each once.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf import timestamp_pb2

from maestro.metrics.v1 import process_event_pb2

MAX_FILES = 1000
MAX_SUMMARY = 500
FORMAT = "%x1e%H%x00%P%x00%ae%x00%an%x00%at%x00%ct%x00%s%x00"
_HEX = re.compile(rb"^[0-9a-f]{40}([0-9a-f]{24})?$")
SYNTHETIC_MERGE = re.compile(r"^Merge [0-9a-f]{40} into [0-9a-f]{40}$")
PR_PATTERNS = (
    re.compile(r"^Merge pull request #(?P<number>\d+) from (?P<source>\S+)"),  # GitHub
    re.compile(r"\(pull request #(?P<number>\d+)\)"),  # Bitbucket
)
GITLAB_MR = re.compile(r"See merge request (?P<project>\S+)!(?P<number>\d+)")
SQUASH = re.compile(r"\(#(?P<number>\d+)\)\s*$")


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
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
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
    """Commits reachable from `tips` and not from `exclude`, newest first."""
    boundary = shallow_boundary(repo)
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
    args += tips
    args += [f"^{sha}" for sha in exclude]
    args.append("--")
    process = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
    )
    assert process.stdout is not None
    assert process.stderr is not None
    buffer = b""
    try:
        while True:
            chunk = process.stdout.read(1 << 20)
            if not chunk:
                break
            buffer += chunk
            records = buffer.split(b"\x1e")
            buffer = records.pop()
            for record in records:
                if record:
                    parsed = _parse_record(record, boundary)
                    if parsed is not None:
                        yield parsed
        if buffer:
            parsed = _parse_record(buffer, boundary)
            if parsed is not None:
                yield parsed
    finally:
        process.stdout.close()
        stderr = process.stderr.read().decode(errors="replace")
        process.stderr.close()
        code = process.wait()
    if code != 0:
        raise GitError(f"git log failed: {stderr.strip()}")


# ---- events ----------------------------------------------------------------------------


def _ts(seconds: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds)


def commit_event(
    project_id: str, repo_name: str, commit: GitCommit
) -> process_event_pb2.ProcessEvent:
    return process_event_pb2.ProcessEvent(
        project_id=project_id,
        commit=process_event_pb2.Commit(
            repo=repo_name,
            sha=commit.sha,
            author=commit.author,
            author_time=_ts(commit.author_time),
            commit_time=_ts(commit.commit_time),
            additions=commit.additions,
            deletions=commit.deletions,
            files=commit.files,
            files_changed=commit.files_changed,
            parent_shas=commit.parents,
            summary=commit.summary,
        ),
    )


@dataclass
class MergedPullRequest:
    number: int
    title: str
    author: str
    merge_commit: GitCommit
    commit_shas: list[str]
    first_commit_time: int


def pull_request_number(commit: GitCommit, body: str = "") -> tuple[int, str] | None:
    """(number, source branch or "") when the commit says it merged a pull/merge request."""
    if len(commit.parents) >= 2:
        for pattern in PR_PATTERNS:
            match = pattern.search(commit.summary)
            if match:
                return int(match.group("number")), match.groupdict().get("source") or ""
        match = GITLAB_MR.search(body)
        if match:
            return int(match.group("number")), ""
        return None
    if len(commit.parents) == 1:
        match = SQUASH.search(commit.summary)
        if match:
            return int(match.group("number")), ""
    return None


def branch_commits(
    merge: GitCommit, known: Mapping[str, GitCommit], limit: int = 10_000
) -> list[GitCommit]:
    """The commits a merge brought in: reachable from its other parents and not
    from its first parent, found in the walked commits by painting down in
    commit-time order (as git's merge-base does)."""
    first, others = merge.parents[0], merge.parents[1:]
    flags: dict[str, int] = {}
    heap: list[tuple[int, str]] = []

    def push(sha: str, flag: int) -> None:
        commit = known.get(sha)
        if commit is None:
            return
        old = flags.get(sha, 0)
        if old | flag != old:
            flags[sha] = old | flag
            heapq.heappush(heap, (-commit.commit_time, sha))

    push(first, 1)
    for sha in others:
        push(sha, 2)
    result: list[GitCommit] = []
    seen: set[str] = set()
    while heap:
        # Stop once every queued commit is reachable from the first parent.
        if all(flags[sha] & 1 for _, sha in heap):
            break
        _, sha = heapq.heappop(heap)
        flag = flags[sha]
        commit = known[sha]
        if flag == 2 and sha not in seen:
            seen.add(sha)
            result.append(commit)
            if len(result) >= limit:
                break
        for parent in commit.parents:
            push(parent, flag)
    return [c for c in result if not (flags[c.sha] & 1)]


def merged_pull_requests(
    repo: Path, commits: Mapping[str, GitCommit], candidates: list[GitCommit]
) -> list[MergedPullRequest]:
    """PullRequests for the candidate commits whose message names one."""
    found: list[MergedPullRequest] = []
    bodies = _bodies(repo, [c.sha for c in candidates if len(c.parents) >= 2])
    for commit in candidates:
        named = pull_request_number(commit, bodies.get(commit.sha, ""))
        if named is None:
            continue
        number = named[0]
        if len(commit.parents) >= 2:
            brought = branch_commits(commit, commits)
            title = _title_from_body(bodies.get(commit.sha, "")) or commit.summary
        else:
            brought = [commit]
            title = SQUASH.sub("", commit.summary).strip()
        # The merge message names the source repository's owner, not the
        # PR's author: the author of its first commit is the better guess.
        first = min(brought, key=lambda c: c.author_time, default=commit)
        author = first.author
        first_time = first.author_time
        found.append(
            MergedPullRequest(
                number=number,
                title=title[:MAX_SUMMARY],
                author=author,
                merge_commit=commit,
                commit_shas=[c.sha for c in brought],
                first_commit_time=first_time,
            )
        )
    return found


def _bodies(repo: Path, shas: list[str]) -> dict[str, str]:
    """Full messages of a few commits (merges), in one git call per 500."""
    bodies: dict[str, str] = {}
    for start in range(0, len(shas), 500):
        chunk = shas[start : start + 500]
        out = git(repo, "show", "-s", "--no-walk", "-z", "--format=%H%x00%B", *chunk)
        tokens = out.split("\0")
        for sha, body in zip(tokens[::2], tokens[1::2], strict=False):
            bodies[sha.strip()] = body
    return bodies


def _title_from_body(body: str) -> str:
    """GitHub puts the PR title on the third line of a merge message; GitLab on the third too."""
    lines = [line.strip() for line in body.splitlines()]
    for line in lines[1:]:
        if line and not line.startswith("See merge request"):
            return line
    return ""


def pull_request_event(
    project_id: str, repo_name: str, pr: MergedPullRequest
) -> process_event_pb2.ProcessEvent:
    return process_event_pb2.ProcessEvent(
        project_id=project_id,
        pull_request=process_event_pb2.PullRequest(
            repo=repo_name,
            number=pr.number,
            title=pr.title,
            author=pr.author,
            state=process_event_pb2.PULL_REQUEST_STATE_MERGED,
            first_commit_time=_ts(pr.first_commit_time),
            merge_time=_ts(pr.merge_commit.commit_time),
            merge_commit_sha=pr.merge_commit.sha,
            commit_shas=pr.commit_shas,
        ),
    )


# ---- the cursor ------------------------------------------------------------------------


class GitCursor:
    """The tips walked by earlier runs, per project and repository, in the state dir."""

    KEEP = 20

    def __init__(self, state_dir: Path, project_id: str, repo_name: str) -> None:
        key = hashlib.sha256(f"{project_id}\0{repo_name}".encode()).hexdigest()[:24]
        self.path = state_dir / "cursors" / f"git-{key}.json"
        self.project_id = project_id
        self.repo_name = repo_name

    def tips(self) -> list[str]:
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return []
        except ValueError:
            return []  # a damaged cursor costs a full walk, never a loss
        return [t for t in raw.get("tips", []) if isinstance(t, str)]

    def save(self, tips: list[str]) -> None:
        unique = list(dict.fromkeys(tips))[-self.KEEP :]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(
            json.dumps({"project_id": self.project_id, "repo": self.repo_name, "tips": unique})
        )
        os.replace(tmp, self.path)


@dataclass
class GitWalk:
    """What one walk found (the `--json` summary's `collected`)."""

    head: str | None = None
    commits: int = 0
    merges: int = 0
    pull_requests: int = 0
    shallow_boundary: int = 0
    skipped_synthetic: int = 0
    incremental: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "head": self.head,
            "commits": self.commits,
            "merges": self.merges,
            "pull_requests": self.pull_requests,
            "shallow_boundary": self.shallow_boundary,
            "skipped_synthetic": self.skipped_synthetic,
            "incremental": self.incremental,
        }


def walk_repository(
    repo: Path,
    *,
    project_id: str,
    repo_name: str,
    rev: str,
    exclude: list[str],
    since: str | None,
    emit: Callable[[process_event_pb2.ProcessEvent], None],
    progress: Callable[[int], None] | None = None,
) -> GitWalk:
    """Walk the history and emit commit and pull request events."""
    walk = GitWalk()
    head = resolve(repo, rev)
    walk.head = head
    if head is None:
        return walk
    live_exclude = [sha for sha in exclude if resolve(repo, sha) is not None]
    walk.incremental = bool(live_exclude)
    known: dict[str, GitCommit] = {}
    candidates: list[GitCommit] = []
    for commit in iter_commits(repo, [head], live_exclude, since):
        if len(commit.parents) == 2 and SYNTHETIC_MERGE.match(commit.summary):
            walk.skipped_synthetic += 1
            continue
        known[commit.sha] = commit
        walk.commits += 1
        if len(commit.parents) >= 2:
            walk.merges += 1
            candidates.append(commit)
        elif SQUASH.search(commit.summary):
            candidates.append(commit)
        if commit.shallow_boundary:
            walk.shallow_boundary += 1
        emit(commit_event(project_id, repo_name, commit))
        if progress is not None and walk.commits % 1000 == 0:
            progress(1000)
        # Keep only what the merge analysis needs.
        commit.files = []
    if progress is not None:
        progress(walk.commits % 1000)
    for pr in merged_pull_requests(repo, known, candidates):
        walk.pull_requests += 1
        emit(pull_request_event(project_id, repo_name, pr))
    return walk
