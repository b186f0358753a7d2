"""Merged pull requests, as a repository's history shows them.

A commit whose message names a pull or merge request in one of the forms of
`maestro_grpc.agent.pullforms` (GitHub, GitLab, Bitbucket, Azure DevOps,
Gitea) is a merged PullRequest: a merge with the commits it brought in (those
reachable from its other parents and not from its first), a squash-merged
commit with itself, and the author time of the first of them. Its identity
is the repository, the number and the merge commit: a number merged twice (two
histories joined into one repository reuse numbers) is two pull requests.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import timestamp_pb2

from maestro.metrics.v1 import process_event_pb2
from maestro_grpc.agent.gitrepo import MAX_SUMMARY, GitCommit, git
from maestro_grpc.agent.pullforms import named_pull_request

BRANCH_LIMIT = 10_000


@dataclass
class MergedPullRequest:
    """A pull request the history shows merged."""

    number: int
    title: str
    author: str
    merge_commit: GitCommit
    commit_shas: list[str]
    first_commit_time: int


@dataclass(frozen=True)
class BranchCommit:
    """What a pull request needs of a commit it brought in."""

    sha: str
    author: str
    author_time: int


def branch_commits(
    merge: GitCommit, known: Mapping[str, GitCommit], limit: int = BRANCH_LIMIT
) -> list[BranchCommit] | None:
    """The commits a merge brought in: reachable from its other parents and not
    from its first parent, found in the walked commits by painting down in
    commit-time order (as git's merge-base does). None when the painting
    reaches a commit this walk did not see (an incremental walk's boundary):
    the answer then needs the repository (`branch_commits_from_git`)."""
    first, others = merge.parents[0], merge.parents[1:]
    flags: dict[str, int] = {}
    heap: list[tuple[int, str]] = []
    unknown = False

    def push(sha: str, flag: int) -> None:
        nonlocal unknown
        commit = known.get(sha)
        if commit is None:
            unknown = unknown or flag == 2
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
    while heap and not unknown:
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
    if unknown:
        return None
    return [BranchCommit(c.sha, c.author, c.author_time) for c in result if not (flags[c.sha] & 1)]


def branch_commits_from_git(
    repo: Path, merge: GitCommit, limit: int = BRANCH_LIMIT
) -> list[BranchCommit]:
    """The commits a merge brought in, as git computes them (`^first others`)."""
    out = git(
        repo,
        "log",
        "-z",
        f"--max-count={limit}",
        "--format=%H%x00%ae%x00%an%x00%at",
        *merge.parents[1:],
        f"^{merge.parents[0]}",
        "--",
    )
    tokens = out.split("\0")
    found = []
    for i in range(0, len(tokens) - 3, 4):
        sha, email, name, at = tokens[i : i + 4]
        found.append(BranchCommit(sha.strip(), email or name, int(at or 0)))
    return found


def merged_pull_requests(
    repo: Path, commits: Mapping[str, GitCommit], candidates: list[GitCommit]
) -> list[MergedPullRequest]:
    """PullRequests for the candidate commits whose message names one."""
    found: list[MergedPullRequest] = []
    bodies = _bodies(repo, [c.sha for c in candidates])
    for commit in candidates:
        body = bodies.get(commit.sha, "")
        named = named_pull_request(commit.summary, body, len(commit.parents))
        if named is None:
            continue
        if len(commit.parents) >= 2:
            brought = branch_commits(commit, commits)
            if brought is None:
                brought = branch_commits_from_git(repo, commit)
        else:
            brought = [BranchCommit(commit.sha, commit.author, commit.author_time)]
        title = named.title or _title_from_body(body) or commit.summary
        # The merge message names the source repository's owner, not the
        # PR's author: the author of its first commit is the better guess.
        first = min(
            brought,
            key=lambda c: c.author_time,
            default=BranchCommit(commit.sha, commit.author, commit.author_time),
        )
        found.append(
            MergedPullRequest(
                number=named.number,
                title=title[:MAX_SUMMARY],
                author=first.author,
                merge_commit=commit,
                commit_shas=[c.sha for c in brought],
                first_commit_time=first.author_time,
            )
        )
    return found


def _bodies(repo: Path, shas: list[str]) -> dict[str, str]:
    """Full messages of a few commits (the candidates), in one git call per 500."""
    bodies: dict[str, str] = {}
    for start in range(0, len(shas), 500):
        chunk = shas[start : start + 500]
        out = git(repo, "show", "-s", "--no-walk", "-z", "--format=%H%x00%B", *chunk)
        tokens = out.split("\0")
        for sha, body in zip(tokens[::2], tokens[1::2], strict=False):
            bodies[sha.strip()] = body
    return bodies


def _title_from_body(body: str) -> str:
    """GitHub, GitLab and Bitbucket Cloud put the title on the first non-empty line
    after the subject."""
    lines = [line.strip() for line in body.splitlines()]
    for line in lines[1:]:
        if line and not line.startswith(("See merge request", "* commit ")):
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
            first_commit_time=timestamp_pb2.Timestamp(seconds=pr.first_commit_time),
            merge_time=timestamp_pb2.Timestamp(seconds=pr.merge_commit.commit_time),
            merge_commit_sha=pr.merge_commit.sha,
            commit_shas=pr.commit_shas,
        ),
    )
