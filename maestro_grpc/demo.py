"""`maestro demo ...`: load example data through the public RPCs (issue #5)."""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="load demo data (Apache Incubator projects, synthetic projects)",
        description="Demo data loaders. Land with issue #5.",
    )
    demo.set_defaults(handler=_not_yet)


def _not_yet(args: argparse.Namespace, settings: Any) -> int:
    print("maestro demo: not implemented yet (issue #5)")
    return 2
