"""`maestro agent incident open|resolve`: an incident's opening and its resolution.

The state dir remembers the incidents it opened, so `resolve` needs only
the id; one opened elsewhere needs --open-time.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from functools import partial

from maestro_grpc.agent import ci, releases
from maestro_grpc.agent.commands import common
from maestro_grpc.agent.runner import Collected, Emitter
from maestro_grpc.agent.settings import AgentSettings
from maestro_grpc.config import Settings


def register(sub: common.SubParsers, options: argparse.ArgumentParser) -> None:
    incident = sub.add_parser(
        "incident",
        help="report an incident opening or its resolution",
        description=releases.__doc__,
        formatter_class=common.FORMATTER,
    )
    actions = incident.add_subparsers(
        dest="incident_command", metavar="open|resolve", required=True
    )
    for name in ("open", "resolve"):
        item = actions.add_parser(
            name, parents=[options], help=f"{name} an incident", description=releases.__doc__
        )
        item.add_argument("--id", required=True, help="the incident's id")
        item.add_argument("--title", help="a title")
        item.add_argument("--caused-by", metavar="DEPLOYMENT_ID", help="the deployment at fault")
        item.add_argument("--environment", help="where (default production)")
        item.add_argument("--time", help=f"when it {'began' if name == 'open' else 'ended'}")
        if name == "resolve":
            item.add_argument(
                "--open-time", help="when it began (needed if it was opened elsewhere)"
            )
        item.set_defaults(handler=handle, incident_action=name)


def handle(args: argparse.Namespace, _server_settings: Settings) -> int:
    return common.run(args, f"incident {args.incident_action}", partial(collect, args))


def collect(args: argparse.Namespace, emitter: Emitter, settings: AgentSettings) -> Collected:
    project = common.project_of(settings)
    book = releases.IncidentBook(settings.state_dir)
    when = ci.parse_time(args.time, "--time") if args.time else datetime.now(UTC)
    if args.incident_action == "open":
        record = releases.IncidentRecord(incident_id=args.id, open_time=when)
    else:
        record = resolved(args, book.get(project, args.id), when)
    if args.title is not None:
        record.title = args.title
    if args.caused_by is not None:
        record.caused_by_deployment_id = args.caused_by
    if args.environment is not None:
        record.environment = args.environment
    emitter.event(record.event(project))
    return Collected(
        summary={"incident_id": args.id, "action": args.incident_action, "incidents": 1},
        after_spooled=lambda: book.put(project, record),
    )


def resolved(
    args: argparse.Namespace, known: releases.IncidentRecord | None, when: datetime
) -> releases.IncidentRecord:
    """The incident as this state dir opened it (or as --open-time says), resolved at `when`."""
    if args.open_time:
        opened = ci.parse_time(args.open_time, "--open-time")
        record = known or releases.IncidentRecord(incident_id=args.id, open_time=opened)
        record.open_time = opened
    elif known is not None:
        record = known
    else:
        raise releases.ReleaseError(
            f"incident {args.id} was not opened from this state dir: pass --open-time"
        )
    record.resolve_time = when
    return record
