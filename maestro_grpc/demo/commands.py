"""`maestro demo import-asfi|seed`: the command line of the demo loaders."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from maestro_grpc.config import Settings
from maestro_grpc.demo import asfi, synthetic

if TYPE_CHECKING:
    import grpc.aio

T = TypeVar("T")

DESCRIPTION = f"""\
`maestro demo`: load example data through the public RPCs.

{asfi.__doc__}
{synthetic.__doc__}"""


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="load demo data (Apache Incubator projects, synthetic projects)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = demo.add_subparsers(dest="demo_command", metavar="DEMO_COMMAND", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--address",
        default=os.environ.get("MAESTRO_ADDRESS", "localhost:50051"),
        help="the server, HOST:PORT (MAESTRO_ADDRESS, default localhost:50051)",
    )
    common.add_argument(
        "--token",
        default=os.environ.get("MAESTRO_TOKEN", ""),
        help="bearer token, when the server requires one (MAESTRO_TOKEN)",
    )
    common.add_argument(
        "--concurrency", type=int, default=8, help="calls in flight at once (default 8)"
    )
    import_asfi = sub.add_parser(
        "import-asfi",
        parents=[common],
        help="load the Apache Incubator projects (projects.csv, monthly.csv) through the RPCs",
    )
    import_asfi.add_argument(
        "directory", type=Path, help="folder holding projects.csv and monthly.csv"
    )
    import_asfi.set_defaults(handler=_import_asfi_command)
    seed = sub.add_parser(
        "seed",
        parents=[common],
        help="generate synthetic projects from the documented ground truth",
    )
    seed.add_argument("--projects", type=int, default=300, help="finished projects (default 300)")
    seed.add_argument("--active", type=int, default=0, help="running projects (default 0)")
    seed.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    seed.add_argument(
        "--prefix", default="demo", help="project names are <prefix>-<n> (default demo)"
    )
    seed.set_defaults(handler=_seed_command)


async def _with_channel(
    args: argparse.Namespace, fn: Callable[[grpc.aio.Channel], Awaitable[T]]
) -> T:
    import grpc.aio

    async with grpc.aio.insecure_channel(args.address) as channel:
        return await fn(channel)


def _import_asfi_command(args: argparse.Namespace, settings: Settings) -> int:
    import grpc

    directory: Path = args.directory
    for name in ("projects.csv", "monthly.csv"):
        if not (directory / name).is_file():
            print(f"maestro demo import-asfi: {directory / name} not found", file=sys.stderr)
            return 2
    try:
        report = asyncio.run(
            _with_channel(
                args, lambda ch: asfi.import_asfi(ch, directory, args.token, args.concurrency)
            )
        )
    except grpc.RpcError as error:
        print(f"maestro demo import-asfi: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    print(
        json.dumps(
            {
                "projects": report.projects,
                "graduated": report.graduated,
                "retired": report.retired,
                "points": report.points,
            }
        )
    )
    return 0


def _seed_command(args: argparse.Namespace, settings: Settings) -> int:
    import grpc

    if args.projects < 0 or args.active < 0:
        print("maestro demo seed: --projects and --active must not be negative", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(
            _with_channel(
                args,
                lambda ch: synthetic.seed(
                    ch,
                    args.projects,
                    args.active,
                    args.seed,
                    args.prefix,
                    args.token,
                    args.concurrency,
                ),
            )
        )
    except grpc.RpcError as error:
        print(f"maestro demo seed: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    finished = [p for p in report.projects if p.finished]
    print(
        json.dumps(
            {
                "projects": len(finished),
                "succeeded": sum(1 for p in finished if p.succeeded),
                "active": len(report.projects) - len(finished),
                "points": report.points,
            }
        )
    )
    return 0
