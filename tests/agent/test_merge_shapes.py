"""Every shape a merged pull request takes in a history, in a repository built here.

The forms of `maestro_grpc.agent.pullforms` side by side with messages that
are not pull requests; then one repository with all of them (and repeated
numbers, a subject full of control bytes), walked as the agent walks it.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from maestro.metrics.v1 import process_event_pb2
from maestro_grpc.agent import gitlog, gitrepo, pullforms
from tests.agent.conftest import Repo
from tests.agent.live import LiveServer, agent, event_counts, event_payloads

CONTROL = "".join(chr(c) for c in range(1, 32) if c != 10)  # every control byte but NUL, LF


@pytest.mark.parametrize(
    ("subject", "body", "parents", "number", "forge", "source", "title"),
    [
        ("Merge pull request #12 from octo/feature", "", 2, 12, "github", "octo/feature", ""),
        ("Merge pull request #12", "", 2, 12, "github", "", ""),
        (
            "Merge pull request #12 in PROJ/app from feature/x to main",
            "",
            2,
            12,
            "bitbucket-server",
            "feature/x",
            "",
        ),
        (
            "Merge pull request 'Add a parser' (#12) from feat into main",
            "",
            2,
            12,
            "gitea",
            "feat",
            "Add a parser",
        ),
        ("Merged in feature/x (pull request #12)", "", 2, 12, "bitbucket-cloud", "feature/x", ""),
        ("Merged in feature/x (pull request #12)", "", 1, 12, "bitbucket-cloud", "feature/x", ""),
        ("Merged PR 12: Add a parser", "", 2, 12, "azure-devops", "", "Add a parser"),
        ("Merged PR 12: Add a parser", "", 1, 12, "azure-devops", "", "Add a parser"),
        ("Add a parser (#12)", "", 1, 12, "github-title", "", "Add a parser"),
        ("Add a parser (#12)", "", 2, 12, "github-title", "", "Add a parser"),
        (
            "Merge branch 'feat' into 'main'",
            "Merge branch 'feat' into 'main'\n\nAdd a parser\n\nSee merge request grp/app!12\n",
            2,
            12,
            "gitlab",
            "",
            "",
        ),
    ],
)
def test_forms_name_their_pull_request(
    subject: str, body: str, parents: int, number: int, forge: str, source: str, title: str
) -> None:
    assert pullforms.named_pull_request(subject, body, parents) == pullforms.NamedPullRequest(
        number=number, forge=forge, source=source, title=title
    )


@pytest.mark.parametrize(
    ("subject", "body", "parents"),
    [
        ("Merge branch 'topic'", "Merge branch 'topic'\n", 2),
        (f"Merge {'a' * 40} into {'b' * 40}", "", 2),  # GitHub's synthetic PR merge
        ("Merge pull request #12 from octo/feature", "", 1),  # a cherry-pick, not a merge
        ("Fix (#12) in the middle", "", 1),
        ("(#12)", "", 1),
        ("Merge pull request #x from octo/feature", "", 2),
        ("Initial commit", "", 0),
        # GitLab's line must be a line of its own, and only a merge's.
        ("Squash", "Squash\n\nSee merge request grp/app!12\n", 1),
        ("Merge branch 'a'", "Merge branch 'a'\n\nsee: See merge request grp/app!12 x\n", 2),
    ],
)
def test_messages_that_name_no_pull_request(subject: str, body: str, parents: int) -> None:
    assert pullforms.named_pull_request(subject, body, parents) is None


def test_every_form_example_is_read_as_its_forge() -> None:
    """The table's own examples, each read as the form it illustrates."""
    for form in pullforms.FORMS:
        subject = form.example.splitlines()[0]
        body = form.example if form.in_body else ""
        for parents, allowed in ((2, form.merge), (1, form.squash)):
            if not allowed:
                continue
            named = pullforms.named_pull_request(subject, body, parents)
            assert named is not None, (form.forge, parents)
            assert named.forge == form.forge
            assert named.number == 12


def _branch(repo: Repo, name: str, base: str, files: dict[str, str]) -> list[str]:
    repo.git("checkout", "-q", "-b", name, base)
    shas = [repo.commit(f"{name}: {path}", 1, {path: text}) for path, text in files.items()]
    repo.git("checkout", "-q", "main")
    return shas


def build_shapes(repo: Repo, other: Repo) -> dict[str, list[str]]:
    """A history with every shape; returns, per merge commit, the commits it brought in."""
    brought: dict[str, list[str]] = {}
    repo.commit("Initial commit", 0, {"README": "hello\n"})

    def merge(name: str, message: str, files: dict[str, str]) -> str:
        shas = _branch(repo, name, "main", files)
        repo.commit(f"main before {name}", 2, {f"main-{name}.txt": "x\n"})
        sha = repo.merge(name, message)
        brought[sha] = shas
        return sha

    merge("plain", "Merge branch 'plain'", {"p.txt": "1\n"})
    merge("bare", "Merge pull request #3", {"b1.txt": "1\n", "b2.txt": "2\n"})
    merge("gh", "Merge pull request #4 from octo/gh\n\nThe GitHub one", {"g.txt": "1\n"})
    squash = repo.commit("Add a parser (#5)", 0, {"parser.py": "x = 1\n"})
    brought[squash] = [squash]
    merge("gl", "Merge branch 'gl' into 'main'\n\nGitLab MR\n\nSee merge request grp/app!6", {
        "gl.txt": "1\n"
    })  # fmt: skip
    merge("bbc", "Merged in bbc (pull request #7)\n\nBitbucket Cloud PR", {"c.txt": "1\n"})
    merge("bbs", "Merge pull request #8 in PROJ/app from bbs to main", {"s.txt": "1\n"})
    merge("azure", "Merged PR 9: Azure PR", {"a.txt": "1\n"})
    merge("gitea", "Merge pull request 'Gitea PR' (#10) from gitea into main", {"t.txt": "1\n"})
    # The same number merged twice (a reopened pull request merged again).
    merge("again1", "Merge pull request #4 from octo/again1", {"r1.txt": "1\n"})
    # A second history, with its own #3, joined into this repository.
    other.commit("Other root", 2, {"other/README": "other\n"})
    other.git("checkout", "-q", "-b", "feat")
    other_pr = [other.commit("Other PR work", 2, {"other/w.txt": "w\n"})]
    other.git("checkout", "-q", "main")
    other.commit("Other main", 2, {"other/m.txt": "m\n"})
    other_merge = other.merge("feat", "Merge pull request #3 from them/feat")
    brought[other_merge] = other_pr
    repo.git("fetch", "-q", str(other.path), "main:other-main")
    repo.tick = max(repo.tick, other.tick)
    repo.tick += 60
    repo.git(
        "merge", "-q", "--no-ff", "--allow-unrelated-histories", "-m", "Join other", "other-main"
    )
    return brought


def walk(repo: Path, rev: str = "HEAD", exclude: list[str] | None = None) -> tuple[
    gitlog.GitWalk, dict[str, process_event_pb2.Commit], list[process_event_pb2.PullRequest]
]:  # fmt: skip
    events: list[process_event_pb2.ProcessEvent] = []
    result = gitlog.walk_repository(
        repo,
        project_id="p",
        repo_name="example/repo",
        rev=rev,
        exclude=exclude or [],
        since=None,
        emit=events.append,
    )
    commits = {e.commit.sha: e.commit for e in events if e.HasField("commit")}
    prs = [e.pull_request for e in events if e.HasField("pull_request")]
    return result, commits, prs


def test_every_merge_shape_in_one_history(make_repo: Callable[[str], Repo]) -> None:
    repo, other = make_repo("shapes"), make_repo("other")
    brought = build_shapes(repo, other)
    result, commits, prs = walk(repo.path)
    assert result.commits == repo.count() == len(commits)

    by_merge = {pr.merge_commit_sha: pr for pr in prs}
    assert len(by_merge) == len(prs)  # one event per merge, numbers repeat
    assert sorted(pr.number for pr in prs) == [3, 3, 4, 4, 5, 6, 7, 8, 9, 10]
    plain = [sha for sha, c in commits.items() if c.summary == "Merge branch 'plain'"]
    assert plain
    assert plain[0] not in by_merge
    for merge_sha, shas in brought.items():
        if merge_sha in plain:
            continue
        pr = by_merge[merge_sha]
        assert sorted(pr.commit_shas) == sorted(shas), pr.number
        first = min(commits[s].author_time.seconds for s in shas)
        assert pr.first_commit_time.seconds == first
    titles = {pr.number: pr.title for pr in prs if pr.number not in (3, 4)}
    assert titles == {
        5: "Add a parser",
        6: "GitLab MR",
        7: "Bitbucket Cloud PR",
        8: "Merge pull request #8 in PROJ/app from bbs to main",
        9: "Azure PR",
        10: "Gitea PR",
    }


def test_a_subject_with_control_bytes_keeps_its_counts(make_repo: Callable[[str], Repo]) -> None:
    repo = make_repo("ctl")
    repo.commit("before", 0, {"a.txt": "1\n"})
    odd = repo.commit(f"fix{CONTROL}end\x1e", 1, {"b.txt": "1\n2\n3\n", "c.txt": "x\n"})
    name_odd = repo.commit("after", 2, {"a.txt": "1\n2\n"})
    _, commits, _ = walk(repo.path)
    assert len(commits) == repo.count() == 3
    commit = commits[odd]
    assert (commit.files_changed, commit.additions, commit.deletions) == (2, 4, 0)
    assert sorted(commit.files) == ["b.txt", "c.txt"]
    assert commit.summary.startswith("fix")
    assert "\x1e" in commit.summary
    assert (commits[name_odd].additions, commits[name_odd].deletions) == (1, 0)


def test_a_path_like_a_record_keeps_its_commit(make_repo: Callable[[str], Repo]) -> None:
    """Paths are read by position too: one that starts with the record separator,
    renamed, is a path."""
    repo = make_repo("paths")
    repo.commit("one", 0, {"\x1eodd.txt": "1\n"})
    repo.git("mv", "\x1eodd.txt", "\x1eeven.txt")
    renamed = repo.commit("rename", 1, {"\x1eeven.txt": "1\n2\n"})
    _, commits, _ = walk(repo.path)
    assert len(commits) == 2
    assert list(commits[renamed].files) == ["\x1eeven.txt"]
    assert (commits[renamed].additions, commits[renamed].files_changed) == (1, 1)


def test_a_rev_that_names_no_commit_is_an_error(make_repo: Callable[[str], Repo]) -> None:
    repo = make_repo("r")
    repo.commit("one", 0, {"a.txt": "1\n"})
    with pytest.raises(gitrepo.GitError, match="does not name a commit"):
        walk(repo.path, rev="no-such-branch")
    empty = make_repo("empty")
    assert walk(empty.path)[0].head is None  # HEAD of an empty repository: nothing new
    with pytest.raises(gitrepo.GitError, match="does not name a commit"):
        walk(empty.path, rev="main~3")


def test_an_incremental_walk_finds_a_pull_requests_earlier_commits(
    make_repo: Callable[[str], Repo],
) -> None:
    """Commits an earlier walk sent (a push build of the feature branch) still
    belong to the pull request that merges them."""
    repo = make_repo("inc")
    repo.commit("root", 0, {"a.txt": "1\n"})
    feature = _branch(repo, "feature", "main", {"f1.txt": "1\n", "f2.txt": "2\n"})
    first, _, _ = walk(repo.path, rev="feature")
    assert first.head == feature[-1]
    repo.commit("main work", 2, {"m.txt": "1\n"})
    merge = repo.merge("feature", "Merge pull request #11 from octo/feature")
    second, commits, prs = walk(repo.path, exclude=[feature[-1]])
    assert second.incremental
    assert set(feature).isdisjoint(commits)
    assert [(pr.number, pr.merge_commit_sha) for pr in prs] == [(11, merge)]
    assert sorted(prs[0].commit_shas) == sorted(feature)
    assert prs[0].first_commit_time.seconds == 1_700_000_120  # f1, the first commit


# ---- through a real server ---------------------------------------------------------------


@pytest.fixture
def live(store_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(store_url, tmp_path / "server").start()
    try:
        yield server
    finally:
        server.stop()


def run_agent(live: LiveServer, state: Path, *args: str, **env: str) -> dict[str, Any]:
    process = agent(live.address, state, "git", *args, "--json", **env)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, (out, err)
    summary: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return summary


def test_repeated_numbers_are_stored_once_each(
    live: LiveServer, store_url: str, make_repo: Callable[[str], Repo], tmp_path: Path
) -> None:
    repo, other = make_repo("shapes"), make_repo("other")
    build_shapes(repo, other)
    project = live.create_project()
    args = ("--repo", str(repo.path), "--project", project)
    summary = run_agent(live, tmp_path / "agent", *args)
    assert summary["collected"]["pull_requests"] == 10
    assert event_counts(store_url, project)["pull_request"] == 10
    # Sent again in full: nothing stored twice.
    run_agent(live, tmp_path / "agent", *args, "--full")
    assert event_counts(store_url, project)["pull_request"] == 10
    numbers = sorted(p["number"] for p in event_payloads(store_url, project, "pull_request"))
    assert numbers == [3, 3, 4, 4, 5, 6, 7, 8, 9, 10]


def test_a_pull_request_build_leaves_the_branch_cursor_alone(
    live: LiveServer, store_url: str, make_repo: Callable[[str], Repo], tmp_path: Path
) -> None:
    """A PR build runs on GitHub's synthetic merge, detached; the real merge
    later, built from the same state dir, still brings in the PR's commits."""
    repo = make_repo("pr")
    repo.commit("root", 0, {"a.txt": "1\n"})
    feature = _branch(repo, "feature", "main", {"f1.txt": "1\n", "f2.txt": "2\n"})
    base = repo.commit("main work", 2, {"m.txt": "1\n"})
    project = live.create_project()
    state = tmp_path / "agent"
    args = ("--repo", str(repo.path), "--project", project)
    push = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push",
            "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main"}  # fmt: skip
    assert run_agent(live, state, *args, **push)["collected"]["cursor_moved"]

    repo.git("checkout", "-q", "--detach", base)
    repo.merge(feature[-1], f"Merge {feature[-1]} into {base}")
    pr_build = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request",
                "GITHUB_REF": "refs/pull/12/merge", "GITHUB_REF_NAME": "12/merge"}  # fmt: skip
    built = run_agent(live, state, *args, **pr_build)["collected"]
    assert (built["skipped_synthetic"], built["commits"], built["cursor_moved"]) == (1, 2, False)
    assert built["head_sent"] is False

    repo.git("checkout", "-q", "main")
    merge = repo.merge("feature", "Merge pull request #12 from octo/feature\n\nFeature")
    merged = run_agent(live, state, *args, **push)["collected"]
    assert merged["incremental"]
    assert merged["pull_requests"] == 1
    (pr,) = event_payloads(store_url, project, "pull_request")
    assert pr["merge_commit_sha"] == merge
    assert sorted(pr["commit_shas"]) == sorted(feature)
    assert pr["first_commit_time"] == "2023-11-14T22:15:20Z"  # f1's author time


def test_a_fresh_state_dir_sends_only_what_is_new(
    live: LiveServer, store_url: str, make_repo: Callable[[str], Repo], tmp_path: Path
) -> None:
    """A CI job's state dir is new every run: the server's heads are its cursor."""
    repo = make_repo("fresh")
    for i in range(6):
        repo.commit(f"c{i}", i, {f"f{i}.txt": "x\n"})
    project = live.create_project()
    args = ("--repo", str(repo.path), "--project", project)
    first = run_agent(live, tmp_path / "job1", *args)["collected"]
    assert (first["commits"], first["server_heads"], first["head_sent"]) == (6, 0, True)
    new = [repo.commit(f"n{i}", i, {f"n{i}.txt": "y\n"}) for i in range(2)]
    second = run_agent(live, tmp_path / "job2", *args)["collected"]
    assert (second["commits"], second["server_heads"], second["incremental"]) == (2, 1, True)
    assert event_counts(store_url, project)["commit"] == 8
    # Nothing new: a third fresh job sends nothing at all.
    idle = run_agent(live, tmp_path / "job2b", *args)
    assert (idle["collected"]["commits"], idle["collected"]["head_sent"], idle["sent"]) == (
        0,
        False,
        0,
    )
    stored = {p["sha"] for p in event_payloads(store_url, project, "commit")}
    assert set(new) <= stored
    # --since leaves the history before it unsent: no head for the next job.
    third = run_agent(live, tmp_path / "job3", *args, "--full", "--since", "@1700000400")
    assert third["collected"]["head_sent"] is False
    heads = event_payloads(store_url, project, "branch_head")
    assert [(h["branch"], h["sha"]) for h in heads] == [("main", new[-1])]


def test_a_shallow_clone_sends_no_head(
    live: LiveServer, store_url: str, make_repo: Callable[[str], Repo], tmp_path: Path
) -> None:
    origin = make_repo("origin")
    for i in range(5):
        origin.commit(f"c{i}", i, {f"f{i}.txt": "x\n"})
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "2", f"file://{origin.path}", str(clone)], check=True
    )
    project = live.create_project()
    collected = run_agent(live, tmp_path / "job", "--repo", str(clone), "--project", project)[
        "collected"
    ]
    assert (collected["commits"], collected["shallow_boundary"]) == (2, 1)
    assert collected["head_sent"] is False
    assert "branch_head" not in event_counts(store_url, project)
