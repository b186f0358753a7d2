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
  came with the merged commits); a merge or squash-merged commit whose
  message names a pull or merge request in a form GitHub, GitLab, Bitbucket,
  Azure DevOps or Gitea writes (the table: `maestro_grpc.agent.pullforms`)
  also becomes a merged PullRequest with the commits it brought in (found by
  git when an earlier run sent them) and the author time of the first;
- messages: parsed by position in git's NUL-separated output, so no byte in
  a subject or a name (not even the record separator) can cut a commit short;
- renames (`-M`): the new path is listed, the changed lines counted;
- binary files: listed, no line counts (git prints `-`);
- empty repositories: nothing to send;
- shallow clones: the boundary commits have no known parents, so their
  (whole-tree) diff is not counted: they are sent with no files and no lines;
- GitHub's synthetic `Merge <sha> into <sha>` commit of pull-request builds is
  not part of any branch and is skipped.

Incremental: the state dir keeps the tips earlier runs walked, per branch (a
pull-request build or a synthetic merge moves none: see
`maestro_grpc.agent.gitcursor`); the next run walks `HEAD --not <tips>`. A
--rev that names no commit is an error (exit 2). Without a cursor (`--full`,
a new state dir) the whole history is walked again, which is correct, only
slower: commits have a natural key (repo, sha) and the server stores each
once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from maestro.metrics.v1 import process_event_pb2
from maestro_grpc.agent.gitrepo import (
    GitCommit,
    existing_commits,
    git,
    head_commit,
    iter_commits,
)
from maestro_grpc.agent.merges import merged_pull_requests, pull_request_event
from maestro_grpc.agent.pullforms import is_synthetic_merge, may_name

# ---- events ----------------------------------------------------------------------------


def commit_event(
    project_id: str, repo_name: str, commit: GitCommit
) -> process_event_pb2.ProcessEvent:
    # Fields set in place: half the cost of building the messages as
    # arguments (which copies each Timestamp), once per commit of a backfill.
    event = process_event_pb2.ProcessEvent(project_id=project_id)
    out = event.commit
    out.repo = repo_name
    out.sha = commit.sha
    out.author = commit.author
    out.author_time.seconds = commit.author_time
    out.commit_time.seconds = commit.commit_time
    out.additions = commit.additions
    out.deletions = commit.deletions
    out.files.extend(commit.files)
    out.files_changed = commit.files_changed
    out.parent_shas.extend(commit.parents)
    out.summary = commit.summary
    return event


# ---- the walk -------------------------------------------------------------------------


@dataclass
class GitWalk:
    """What one walk found (the `--json` summary's `collected`)."""

    head: str | None = None
    head_subject: str = ""
    head_time: int = 0
    commits: int = 0
    merges: int = 0
    pull_requests: int = 0
    shallow_boundary: int = 0
    skipped_synthetic: int = 0
    incremental: bool = False
    excluded: list[str] = field(default_factory=list)  # the tips it started from

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
    head = head_commit(repo, rev)
    walk.head = head
    if head is None:
        return walk
    shown = git(repo, "show", "-s", "--format=%ct%x00%s", head)
    head_time, _, walk.head_subject = shown.partition("\0")
    walk.head_time = int(head_time or 0)
    walk.head_subject = walk.head_subject.strip()
    present = existing_commits(repo, exclude)
    live_exclude = [sha for sha in exclude if sha in present]
    walk.incremental = bool(live_exclude)
    walk.excluded = live_exclude
    known: dict[str, GitCommit] = {}
    candidates: list[GitCommit] = []
    for commit in iter_commits(repo, [head], live_exclude, since):
        if len(commit.parents) == 2 and is_synthetic_merge(commit.summary):
            walk.skipped_synthetic += 1
            continue
        known[commit.sha] = commit
        walk.commits += 1
        if len(commit.parents) >= 2:
            walk.merges += 1
        if may_name(commit.summary, len(commit.parents)):
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
