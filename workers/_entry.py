"""What every worker entry point does: read the settings and the flags, run, exit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from maestro_grpc import logs
from maestro_grpc.config import ConfigError, Settings


def run(name: str, work: Callable[[Settings, bool], int], argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m workers.{name}")
    parser.add_argument("--once", action="store_true", help="process what is due, then exit")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"{name}: {error}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)
    return work(settings, bool(args.once))
