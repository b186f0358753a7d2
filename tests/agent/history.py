"""Large git histories, fast: a `git fast-import` stream (used by the tests and the bench).

Commits change 1-3 of 400 small files (lines edited and appended), three
authors take turns, and every `merge_every` commits a two-commit feature
branch is merged with GitHub's message ("Merge pull request #N from ..."),
so the history has merges, merged pull requests and real line counts.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

AUTHORS = [(b"Ada", b"ada@example.com"), (b"Bob", b"bob@example.com"), (b"Cy", b"cy@example.com")]


def generate_history(path: Path, commits: int, *, merge_every: int = 100, seed: int = 7) -> int:
    """Create a repository at `path` with exactly `commits` commits; returns the
    number of merged pull requests."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    rnd = random.Random(seed)
    files = [f"src/mod{i % 40}/file{i}.py" for i in range(400)]
    contents = {f: [f"line {j}\n" for j in range(12)] for f in files}
    stream: list[bytes] = []
    mark = 0

    def changes(count: int) -> bytes:
        parts = []
        for _ in range(count):
            name = rnd.choice(files)
            lines = contents[name]
            lines[rnd.randrange(len(lines))] = f"changed {rnd.random()}\n"
            if rnd.random() < 0.3:
                lines.append(f"added {rnd.random()}\n")
            data = "".join(lines).encode()
            parts.append(b"M 100644 inline %s\ndata %d\n%s\n" % (name.encode(), len(data), data))
        return b"".join(parts)

    def commit(
        ref: bytes, parent: int | None, merged: int | None, message: str, body: bytes
    ) -> int:
        nonlocal mark
        mark += 1
        name, email = AUTHORS[mark % len(AUTHORS)]
        when = 1_600_000_000 + mark * 60
        text = message.encode()
        record = b"commit %s\nmark :%d\n" % (ref, mark)
        record += b"author %s <%s> %d +0000\n" % (name, email, when)
        record += b"committer %s <%s> %d +0000\n" % (name, email, when)
        record += b"data %d\n%s\n" % (len(text), text)
        if parent:
            record += b"from :%d\n" % parent
        if merged:
            record += b"merge :%d\n" % merged
        stream.append(record + body + b"\n")
        return mark

    main: int | None = None
    count = pulls = 0
    while count < commits:
        if count and count % merge_every == 0 and commits - count >= 3:
            pulls += 1
            branch = main
            for part in range(2):
                branch = commit(
                    b"refs/heads/feature", branch, None, f"feature {pulls}.{part}", changes(2)
                )
            main = commit(
                b"refs/heads/main",
                main,
                branch,
                f"Merge pull request #{pulls} from org/feature-{pulls}\n\nFeature {pulls}",
                b"",
            )
            count += 3
        else:
            main = commit(
                b"refs/heads/main", main, None, f"change {count}", changes(rnd.randint(1, 3))
            )
            count += 1
    process = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=path, stdin=subprocess.PIPE)
    assert process.stdin is not None
    process.stdin.write(b"".join(stream))
    process.stdin.close()
    if process.wait() != 0:
        raise RuntimeError("git fast-import failed")
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "-f", "main"], check=True)
    return pulls
