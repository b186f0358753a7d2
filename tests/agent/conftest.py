"""Agent fixtures: real git repositories built with the git command."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

AUTHORS = [
    ("Ada Lovelace", "ada@example.com"),
    ("Grace Hopper", "grace@example.com"),
    ("Linus T", "linus@example.com"),
]


class Repo:
    """A real repository with a clock: each commit one minute after the last."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tick = 1_700_000_000
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str, author: int = 0) -> str:
        name, email = AUTHORS[author % len(AUTHORS)]
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_AUTHOR_DATE": f"{self.tick} +0000",
            "GIT_COMMITTER_DATE": f"{self.tick} +0000",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        result = subprocess.run(
            ["git", "-C", str(self.path), *args], capture_output=True, text=True, env=env
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def write(self, name: str, content: str | bytes) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)

    def commit(
        self, message: str, author: int = 0, files: dict[str, str | bytes] | None = None
    ) -> str:
        for name, content in (files or {}).items():
            self.write(name, content)
        self.tick += 60
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, author=author)
        return self.git("rev-parse", "HEAD")

    def merge(self, branch: str, message: str, author: int = 0) -> str:
        self.tick += 60
        self.git("merge", "-q", "--no-ff", "-m", message, branch, author=author)
        return self.git("rev-parse", "HEAD")

    def count(self, rev: str = "HEAD") -> int:
        return int(self.git("rev-list", "--count", rev))


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[[str], Repo]:
    def make(name: str = "repo") -> Repo:
        return Repo(tmp_path / name)

    return make


def build_history(repo: Repo) -> dict[str, str]:
    """Merges, renames, binary files, several authors; returns named shas."""
    shas: dict[str, str] = {}
    shas["root"] = repo.commit(
        "Initial commit", 0, {"README": "hello\n", "src/app.py": "a = 1\nb = 2\n"}
    )
    shas["binary"] = repo.commit(
        "Add logo", 1, {"logo.png": bytes(range(256)) * 4 + b"\x00\x00binary"}
    )
    repo.git("checkout", "-q", "-b", "feature/rename")
    repo.git("mv", "src/app.py", "src/main.py")
    repo.write("src/main.py", "a = 1\nb = 2\nc = 3\n")
    shas["rename"] = repo.commit("Rename app to main", 2)
    shas["feature2"] = repo.commit("Tune main", 2, {"src/main.py": "a = 1\nb = 20\nc = 3\n"})
    repo.git("checkout", "-q", "main")
    shas["main2"] = repo.commit("Docs", 0, {"docs/guide.md": "# Guide\n\nText\n"})
    shas["merge"] = repo.merge(
        "feature/rename", "Merge pull request #7 from octo/feature/rename\n\nRename the app", 1
    )
    shas["squash"] = repo.commit("Add tests (#8)", 0, {"tests/t.py": "def test():\n    pass\n"})
    repo.git("checkout", "-q", "-b", "topic")
    shas["topic"] = repo.commit("Topic work", 1, {"topic.txt": "x\n"})
    repo.git("checkout", "-q", "main")
    shas["plain_merge"] = repo.merge("topic", "Merge branch 'topic'", 2)
    return shas
