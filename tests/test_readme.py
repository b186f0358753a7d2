"""Every `maestro ...` line the README shows is a command the CLI takes, as written.

The README says how `maestro` is found after `make run`'s set-up (`.venv/bin`
on the PATH); this test keeps its example lines true to the parser: a command
or option renamed in the code fails here, not in a new user's shell.
Placeholders (`<project id>`) stand for a UUID, as a reader would fill them in.
"""

from __future__ import annotations

import re
import shlex
import uuid
from pathlib import Path

import pytest

from maestro_grpc.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for raw in block.splitlines():
            line = raw.split("  #", 1)[0].strip()
            # What a pipe feeds `maestro`, and $(...) around it, are the shell's.
            line = line.split("|")[-1].strip()
            if line.startswith("export ") or not line.startswith("maestro "):
                continue
            lines.append(line)
    return lines


def test_the_readme_shows_the_commands() -> None:
    commands = readme_commands()
    assert len(commands) >= 20
    assert any(c.startswith("maestro web") for c in commands)
    assert any(c.startswith("maestro projects") for c in commands)


@pytest.mark.parametrize("line", readme_commands())
def test_each_readme_command_parses(line: str) -> None:
    filled = re.sub(r"<[^>]+>", str(uuid.uuid4()), line)
    args = shlex.split(filled)[1:]
    try:
        parsed = build_parser().parse_args(args)
    except SystemExit as stop:
        raise AssertionError(f"the README's {line!r} does not parse") from stop
    assert parsed.command == args[0]


def test_the_readme_says_where_maestro_is() -> None:
    text = (ROOT / "README.md").read_text()
    assert 'export PATH="$PWD/.venv/bin:$PATH"' in text
