"""`maestro agent ...` commands (issue #4)."""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(commands: Any) -> None:
    agent = commands.add_parser(
        "agent",
        help="collect process data (git, CI, tests, deployments, MLflow) and stream it",
        description="The CI agent. Lands with issue #4.",
    )
    agent.set_defaults(handler=_not_yet)


def _not_yet(args: argparse.Namespace, settings: Any) -> int:
    print("maestro agent: not implemented yet (issue #4)")
    return 2
