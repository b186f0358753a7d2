"""The git collector against real repositories built with git."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from maestro.metrics.v1 import process_event_pb2
from maestro_grpc.agent import gitcursor, gitlog, gitrepo
from tests.agent.conftest import Repo, build_history


def walk(
    repo: Path, exclude: list[str] | None = None, since: str | None = None, rev: str = "HEAD"
) -> tuple[
    gitlog.GitWalk, dict[str, process_event_pb2.Commit], dict[int, process_event_pb2.PullRequest]
]:
    events: list[process_event_pb2.ProcessEvent] = []
    result = gitlog.walk_repository(
        repo,
        project_id="p",
        repo_name="example/repo",
        rev=rev,
        exclude=exclude or [],
        since=since,
        emit=events.append,
    )
    commits = {e.commit.sha: e.commit for e in events if e.WhichOneof("kind") == "commit"}
    prs = {e.pull_request.number: e.pull_request for e in events if e.HasField("pull_request")}
    return result, commits, prs


def test_history_with_merges_renames_binaries_and_authors(make_repo: Callable[[str], Repo]) -> None:
    repo = make_repo("r")
    shas = build_history(repo)
    result, commits, prs = walk(repo.path)

    assert result.commits == repo.count() == len(commits) == 9
    assert set(shas.values()) <= set(commits)
    assert result.merges == 2
    assert {c.author for c in commits.values()} == {
        "ada@example.com",
        "grace@example.com",
        "linus@example.com",
    }

    root = commits[shas["root"]]
    assert sorted(root.files) == ["README", "src/app.py"]
    assert (root.additions, root.deletions, root.files_changed) == (3, 0, 2)
    assert root.parent_shas == []
    assert root.author_time.seconds == 1_700_000_060

    binary = commits[shas["binary"]]
    assert list(binary.files) == ["logo.png"]
    assert (binary.additions, binary.deletions, binary.files_changed) == (0, 0, 1)

    rename = commits[shas["rename"]]
    assert list(rename.files) == ["src/main.py"]  # the new path; the rename is not a delete+add
    assert (rename.additions, rename.deletions) == (1, 0)

    merge = commits[shas["merge"]]
    assert list(merge.parent_shas) == [shas["main2"], shas["feature2"]]
    assert (merge.additions, merge.deletions, merge.files_changed) == (0, 0, 0)
    assert merge.summary == "Merge pull request #7 from octo/feature/rename"

    # The PR merge names the commits it brought in, and starts at the first one.
    assert set(prs) == {7, 8}
    pr = prs[7]
    assert pr.state == process_event_pb2.PULL_REQUEST_STATE_MERGED
    assert pr.title == "Rename the app"
    assert pr.merge_commit_sha == shas["merge"]
    assert sorted(pr.commit_shas) == sorted([shas["rename"], shas["feature2"]])
    assert pr.first_commit_time == commits[shas["rename"]].author_time
    assert pr.merge_time == merge.commit_time
    assert pr.author == "linus@example.com"
    squash = prs[8]
    assert list(squash.commit_shas) == [shas["squash"]]
    assert squash.title == "Add tests"
    # A merge without a PR number is a commit only.
    assert commits[shas["plain_merge"]].summary == "Merge branch 'topic'"


def test_incremental_walk_sends_only_new_commits(make_repo: Callable[[str], Repo]) -> None:
    repo = make_repo("r")
    build_history(repo)
    first, _, _ = walk(repo.path)
    assert first.head is not None
    new = [repo.commit(f"after {i}", i, {f"n{i}.txt": f"{i}\n"}) for i in range(3)]
    second, again, _ = walk(repo.path, exclude=[first.head])
    assert second.incremental
    assert set(again) == set(new)
    # A tip that no longer exists (history rewritten) is ignored: full walk.
    third, everything, _ = walk(repo.path, exclude=["0" * 40])
    assert not third.incremental
    assert len(everything) == repo.count()


def test_since_bounds_the_walk(make_repo: Callable[[str], Repo]) -> None:
    repo = make_repo("r")
    build_history(repo)
    _, commits, _ = walk(repo.path, since="@1700000400")
    assert commits
    assert all(c.commit_time.seconds >= 1_700_000_400 for c in commits.values())
    assert len(commits) < repo.count()


def test_empty_repository_sends_nothing(make_repo: Callable[[str], Repo]) -> None:
    repo = make_repo("empty")
    result, commits, prs = walk(repo.path)
    assert result.head is None
    assert (commits, prs, result.commits) == ({}, {}, 0)


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(gitrepo.GitError, match="not a git repository"):
        gitrepo.check_repository(tmp_path)
    with pytest.raises(gitrepo.GitError, match="does not exist"):
        gitrepo.check_repository(tmp_path / "missing")


def test_shallow_clone_counts_no_lines_for_its_boundary(
    make_repo: Callable[[str], Repo], tmp_path: Path
) -> None:
    repo = make_repo("origin")
    for i in range(6):
        repo.commit(f"c{i}", i, {f"f{i}.txt": "line\n" * (i + 1)})
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "3", f"file://{repo.path}", str(clone)], check=True
    )
    result, commits, _ = walk(clone)
    rev_count = int(
        subprocess.run(
            ["git", "-C", str(clone), "rev-list", "--count", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert result.commits == rev_count == len(commits) == 3
    assert result.shallow_boundary == 1
    boundary = [c for c in commits.values() if not c.parent_shas]
    assert len(boundary) == 1
    assert (boundary[0].files_changed, boundary[0].additions, list(boundary[0].files)) == (0, 0, [])
    # The others are counted normally.
    assert all(c.additions > 0 for c in commits.values() if c.parent_shas)


def test_paths_with_spaces_tabs_and_unicode(make_repo: Callable[[str], Repo]) -> None:
    repo = make_repo("r")
    repo.commit("odd names", 0, {"dir with space/ü file.txt": "x\n", "tab\there.txt": "y\n"})
    repo.git("mv", "tab\there.txt", "renamed\ttab.txt")
    repo.commit("rename odd", 0)
    _, commits, _ = walk(repo.path)
    files = sorted(f for c in commits.values() for f in c.files)
    assert files == ["dir with space/ü file.txt", "renamed\ttab.txt", "tab\there.txt"]


def test_github_synthetic_merge_is_skipped(make_repo: Callable[[str], Repo]) -> None:
    repo = make_repo("r")
    base = repo.commit("base", 0, {"a.txt": "1\n"})
    repo.git("checkout", "-q", "-b", "pr")
    head = repo.commit("pr work", 1, {"b.txt": "2\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main work", 2, {"c.txt": "3\n"})
    repo.merge("pr", f"Merge {head} into {base}")
    result, commits, _ = walk(repo.path)
    assert result.skipped_synthetic == 1
    assert len(commits) == repo.count() - 1


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("git@github.com:org/repo.git", "github.com/org/repo"),
        ("https://github.com/org/repo.git", "github.com/org/repo"),
        ("https://x-access-token:secret@github.com/org/repo", "github.com/org/repo"),
        (
            "ssh://git@gitlab.example.com:2222/group/sub/repo.git",
            "gitlab.example.com/group/sub/repo",
        ),
        ("/srv/git/repo.git", "/srv/git/repo"),
        ("", ""),
    ],
)
def test_remote_names(url: str, name: str) -> None:
    assert gitrepo.normalize_remote(url) == name


def test_repository_name_prefers_origin_then_ci(make_repo: Callable[[str], Repo]) -> None:
    repo = make_repo("r")
    assert gitrepo.repository_name(repo.path, {}) == str(repo.path.resolve())
    env = {"GITHUB_REPOSITORY": "org/repo", "GITHUB_SERVER_URL": "https://github.com"}
    assert gitrepo.repository_name(repo.path, env) == "github.com/org/repo"
    assert (
        gitrepo.repository_name(repo.path, {"CI_PROJECT_URL": "https://gl.io/g/p"}) == "gl.io/g/p"
    )
    repo.git("remote", "add", "origin", "git@github.com:acme/models.git")
    assert gitrepo.repository_name(repo.path, env) == "github.com/acme/models"


def test_cursor_roundtrip(tmp_path: Path) -> None:
    cursor = gitcursor.GitCursor(tmp_path, "p", "r")
    assert cursor.tips() == []
    cursor.save("main", "a" * 40)
    cursor.save("main", "b" * 40)
    cursor.save("main", "a" * 40)
    cursor.save("feature", "c" * 40)
    assert cursor.tips("main") == ["b" * 40, "a" * 40]
    assert cursor.tips() == ["b" * 40, "a" * 40, "c" * 40]  # every branch's, to exclude
    for i in range(10):
        cursor.save("main", f"{i:040d}")
    assert len(cursor.tips("main")) == gitcursor.KEEP_PER_BRANCH
    cursor.path.write_text("{not json")
    assert cursor.tips() == []
    other = gitcursor.GitCursor(tmp_path, "p", "other")
    assert other.path != cursor.path


def test_a_cursor_from_before_branches_is_still_excluded(tmp_path: Path) -> None:
    cursor = gitcursor.GitCursor(tmp_path, "p", "r")
    cursor.path.parent.mkdir(parents=True)
    cursor.path.write_text(json.dumps({"tips": ["a" * 40]}))
    assert cursor.tips() == ["a" * 40]
    cursor.save("main", "b" * 40)
    assert cursor.tips() == ["b" * 40]


@pytest.mark.parametrize(
    ("rev", "env", "branch"),
    [
        ("HEAD", {}, "main"),
        ("main", {}, "main"),
        ("refs/heads/main", {}, "main"),
        ("HEAD~1", {}, ""),
        ("v1", {}, ""),
        # A detached HEAD: the CI's branch, never a pull request's.
        ("DETACHED", {}, ""),
        ("DETACHED", {"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/heads/main",
                      "GITHUB_REF_NAME": "main", "GITHUB_EVENT_NAME": "push"}, "main"),
        ("DETACHED", {"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/pull/7/merge",
                      "GITHUB_REF_NAME": "7/merge", "GITHUB_EVENT_NAME": "pull_request"}, ""),
        ("DETACHED", {"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/tags/v1",
                      "GITHUB_REF_NAME": "v1", "GITHUB_EVENT_NAME": "push"}, ""),
        ("DETACHED", {"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "main"}, "main"),
        ("DETACHED", {"GITLAB_CI": "true", "CI_COMMIT_REF_NAME": "feat",
                      "CI_MERGE_REQUEST_IID": "4"}, ""),
        ("DETACHED", {"JENKINS_URL": "http://j", "BRANCH_NAME": "main"}, "main"),
        ("DETACHED", {"JENKINS_URL": "http://j", "BRANCH_NAME": "PR-4", "CHANGE_ID": "4"}, ""),
        # A pull-request build walks no branch, even on a branch.
        ("HEAD", {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request_target"}, ""),
    ],
)  # fmt: skip
def test_the_branch_a_walk_is_for(
    make_repo: Callable[[str], Repo], rev: str, env: dict[str, str], branch: str
) -> None:
    repo = make_repo("r")
    repo.commit("one", 0, {"a.txt": "1\n"})
    repo.commit("two", 0, {"a.txt": "2\n"})
    repo.git("tag", "v1")
    if rev == "DETACHED":
        repo.git("checkout", "-q", "--detach", "HEAD")
        rev = "HEAD"
    assert gitcursor.walk_branch(repo.path, rev, env) == branch


def test_a_synthetic_merge_moves_no_cursor() -> None:
    assert gitcursor.moves_cursor("main", "Docs")
    assert not gitcursor.moves_cursor("", "Docs")
    assert not gitcursor.moves_cursor("main", f"Merge {'a' * 40} into {'b' * 40}")
