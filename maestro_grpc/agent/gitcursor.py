"""Where `agent git` starts: the tips earlier walks sent, per branch, in the state dir.

A walk excludes every tip any earlier walk of the repository sent (all of a
tip's ancestors were sent with it), but it records its own tip only under
the branch it walked, and only when it walked a branch: a pull-request
build (GitHub's synthetic `Merge <sha> into <sha>` head, a GitLab merge
request pipeline, a Jenkins change request) or a detached HEAD outside CI
moves no cursor. Which branch a walk is for:

- `--rev` naming a branch (`main`, `origin/main`, `refs/heads/main`), or
  HEAD on a branch: that branch;
- a detached HEAD in CI: GitHub's `GITHUB_REF_NAME` on a push to a branch
  (`GITHUB_REF` `refs/heads/...`), GitLab's `CI_COMMIT_BRANCH` (set for
  branch pipelines only), Jenkins' `BRANCH_NAME` (not for `CHANGE_ID`);
- anything else: none.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from maestro_grpc.agent.gitrepo import git
from maestro_grpc.agent.pullforms import is_synthetic_merge

KEEP_PER_BRANCH = 5
KEEP_BRANCHES = 50
_REMOTE_PREFIXES = ("refs/heads/", "refs/remotes/origin/", "refs/remotes/")


def pull_request_build(env: Mapping[str, str]) -> bool:
    """Whether the CI job builds a pull (merge) request rather than a branch."""
    if env.get("GITHUB_ACTIONS") == "true":
        return env.get("GITHUB_EVENT_NAME", "").startswith("pull_request") or env.get(
            "GITHUB_REF", ""
        ).startswith("refs/pull/")
    if env.get("GITLAB_CI") == "true":
        return bool(env.get("CI_MERGE_REQUEST_IID"))
    return bool(env.get("CHANGE_ID"))  # Jenkins multibranch: a change request


def _ci_branch(env: Mapping[str, str]) -> str:
    if pull_request_build(env):
        return ""
    if env.get("GITHUB_ACTIONS") == "true":
        ref = env.get("GITHUB_REF", "")
        return env.get("GITHUB_REF_NAME", "") if ref.startswith("refs/heads/") else ""
    if env.get("GITLAB_CI") == "true":
        return env.get("CI_COMMIT_BRANCH", "")
    return env.get("BRANCH_NAME", "") if env.get("JENKINS_URL") else ""


def walk_branch(repo: Path, rev: str, env: Mapping[str, str]) -> str:
    """The branch a walk of `rev` is for, or "" (see the module docstring)."""
    if pull_request_build(env):
        return ""
    full = git(repo, "rev-parse", "--symbolic-full-name", rev, check=False).strip()
    if rev == "HEAD" and full == "HEAD":
        return _ci_branch(env)  # detached
    for prefix in _REMOTE_PREFIXES:
        if full.startswith(prefix):
            return full.removeprefix(prefix)
    return ""


def moves_cursor(branch: str, head_subject: str) -> bool:
    """A walk records its tip only for a branch, and never a synthetic merge."""
    return bool(branch) and not is_synthetic_merge(head_subject)


class GitCursor:
    """The tips walked by earlier runs, per project, repository and branch."""

    def __init__(self, state_dir: Path, project_id: str, repo_name: str) -> None:
        key = hashlib.sha256(f"{project_id}\0{repo_name}".encode()).hexdigest()[:24]
        self.path = state_dir / "cursors" / f"git-{key}.json"
        self.project_id = project_id
        self.repo_name = repo_name

    def _raw(self) -> dict[str, object]:
        try:
            raw = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}  # a damaged cursor costs a full walk, never a loss
        return raw if isinstance(raw, dict) else {}

    def partial(self) -> set[str]:
        """Tips of walks that did not cover everything before them (a shallow
        clone's, a --since walk's): a walk excluding one is not complete either."""
        found = self._raw().get("partial")
        return {t for t in found if isinstance(t, str)} if isinstance(found, list) else set()

    def _load(self) -> dict[str, list[str]]:
        raw = self._raw()
        branches = raw.get("branches")
        found: dict[str, list[str]] = {}
        if isinstance(branches, dict):
            for name, tips in branches.items():
                if isinstance(tips, list):
                    found[str(name)] = [t for t in tips if isinstance(t, str)]
        legacy = raw.get("tips")  # before cursors were per branch
        if isinstance(legacy, list) and not found:
            found[""] = [t for t in legacy if isinstance(t, str)]
        return found

    def tips(self, branch: str | None = None) -> list[str]:
        """Every branch's tips (to exclude), or one branch's."""
        branches = self._load()
        if branch is not None:
            return branches.get(branch, [])
        return list(dict.fromkeys(t for tips in branches.values() for t in tips))

    def save(self, branch: str, tip: str, complete: bool = True) -> None:
        """Record `tip` as the branch's newest walked commit (and whether the walk
        covered everything before it)."""
        partial = [t for t in self.partial() if t != tip]
        if not complete:
            partial.append(tip)
        branches = self._load()
        branches.pop("", None)
        kept = [t for t in branches.pop(branch, []) if t != tip]
        branches[branch] = [*kept, tip][-KEEP_PER_BRANCH:]
        branches = dict(list(branches.items())[-KEEP_BRANCHES:])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        remembered = {t for tips in branches.values() for t in tips}
        state = {
            "project_id": self.project_id,
            "repo": self.repo_name,
            "branches": branches,
            "partial": [t for t in partial if t in remembered],
        }
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.path)
