"""Merged pull requests, as a repository's history shows them.

A merge whose message names a pull or merge request (GitHub "Merge pull
request #12 from ...", GitLab "See merge request group/project!12",
Bitbucket "(pull request #12)"), and a squash-merged commit ending in
"(#12)", is a merged PullRequest, with the commits it brought in and the
author time of the first of them.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import timestamp_pb2

from maestro.metrics.v1 import process_event_pb2
from maestro_grpc.agent.gitrepo import MAX_SUMMARY, GitCommit, git

PR_PATTERNS = (
    re.compile(r"^Merge pull request #(?P<number>\d+) from (?P<source>\S+)"),  # GitHub
    re.compile(r"\(pull request #(?P<number>\d+)\)"),  # Bitbucket
)
GITLAB_MR = re.compile(r"See merge request (?P<project>\S+)!(?P<number>\d+)")
SQUASH = re.compile(r"\(#(?P<number>\d+)\)\s*$")


@dataclass
class MergedPullRequest:
    """A pull request the history shows merged."""

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
            first_commit_time=timestamp_pb2.Timestamp(seconds=pr.first_commit_time),
            merge_time=timestamp_pb2.Timestamp(seconds=pr.merge_commit.commit_time),
            merge_commit_sha=pr.merge_commit.sha,
            commit_shas=pr.commit_shas,
        ),
    )
