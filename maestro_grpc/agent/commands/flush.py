"""`maestro agent flush`: send what is left in the spool, collecting nothing."""

from __future__ import annotations

import argparse

from maestro_grpc.agent.commands import common
from maestro_grpc.agent.runner import Collected, Emitter
from maestro_grpc.agent.settings import AgentSettings
from maestro_grpc.config import Settings


def register(sub: common.SubParsers, options: argparse.ArgumentParser) -> None:
    flush = sub.add_parser(
        "flush",
        parents=[options],
        help="send what is left in the spool",
        description="Deliver the spooled batches (from --spool-only or an earlier failed run).",
    )
    flush.set_defaults(handler=handle)


def handle(args: argparse.Namespace, _server_settings: Settings) -> int:
    return common.run(args, "flush", collect)


def collect(emitter: Emitter, settings: AgentSettings) -> Collected:
    return Collected(summary={})
