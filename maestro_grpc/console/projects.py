"""`maestro projects list|get|create`."""

from __future__ import annotations

import argparse
from typing import Any

from maestro.registry.v1 import project_pb2
from maestro.registry.v1 import registry_service_pb2 as pb
from maestro_grpc.console.run import (
    EXIT_CODES,
    Stubs,
    UsageError,
    as_dict,
    label_options,
    pairs,
    print_json,
    run,
    table,
    when,
)

# Short names on the command line, the enum's names on the wire.
STATUSES = {
    name.removeprefix("PROJECT_STATUS_").lower(): name
    for name, value in project_pb2.ProjectStatus.items()
    if value != project_pb2.PROJECT_STATUS_UNSPECIFIED
}


def _status(value: int) -> str:
    return project_pb2.ProjectStatus.Name(value).removeprefix("PROJECT_STATUS_").lower()


def _role(value: int) -> str:
    return project_pb2.TeamRole.Name(value).removeprefix("TEAM_ROLE_").lower().replace("_", " ")


def add_commands(commands: Any) -> None:
    projects = commands.add_parser(
        "projects",
        help="list, show and create projects",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = projects.add_subparsers(dest="projects_command", metavar="COMMAND", required=True)
    listing = kinds.add_parser(
        "list", help="projects, filtered by status and labels", epilog=EXIT_CODES
    )
    listing.add_argument("--status", choices=sorted(STATUSES), action="append", default=[])
    listing.add_argument("--label", action="append", default=[], metavar="KEY[=VALUE]")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    listing.add_argument("--json", action="store_true", help="JSON for scripts")
    listing.set_defaults(handler=_list)
    get = kinds.add_parser("get", help="one project, with its team and outcome", epilog=EXIT_CODES)
    get.add_argument("project_id", metavar="ID")
    get.add_argument("--json", action="store_true", help="JSON for scripts")
    get.set_defaults(handler=_get)
    create = kinds.add_parser("create", help="register a project; prints its id", epilog=EXIT_CODES)
    create.add_argument("--name", required=True)
    create.add_argument("--description", default="")
    create.add_argument("--status", choices=sorted(STATUSES), default="planned")
    create.add_argument("--label", action="append", default=[], metavar="KEY[=VALUE]")
    create.add_argument("--repo-url", default="")
    create.add_argument("--json", action="store_true", help="JSON for scripts")
    create.set_defaults(handler=_create)


def _list(args: argparse.Namespace, _settings: object) -> int:
    async def work(stubs: Stubs) -> None:
        if args.limit < 1:
            raise UsageError("--limit must be at least 1")
        request = pb.ListProjectsRequest(
            statuses=[STATUSES[s] for s in args.status], labels=label_options(args.label)
        )
        request.page_size = min(1000, args.limit)
        found: list[project_pb2.Project] = [
            project
            async for project in stubs.client.pages(
                stubs.registry.ListProjects, request, "projects", limit=args.limit, **stubs.kw
            )
        ]
        if args.json:
            print_json({"projects": [as_dict(p) for p in found]})
            return
        table(
            f"{len(found)} projects",
            ("id", "name", "status", "team", "outcome", "started"),
            (
                (p.id, p.name, _status(p.status), len(p.team), _outcome(p), when(p.start_time))
                for p in found
            ),
        )

    return run(work)


def _outcome(project: project_pb2.Project) -> str:
    if not project.HasField("success"):
        return ""
    verdict = "succeeded" if project.success.succeeded else "failed"
    if project.success.HasField("score"):
        verdict += f" ({project.success.score:.2f})"
    return verdict


def _get(args: argparse.Namespace, _settings: object) -> int:
    async def work(stubs: Stubs) -> None:
        project = (
            await stubs.registry.GetProject(
                pb.GetProjectRequest(project_id=args.project_id), **stubs.kw
            )
        ).project
        if args.json:
            print_json(as_dict(project))
            return
        labels = ", ".join(f"{k}={v}" if v else k for k, v in sorted(project.labels.items()))
        pairs(
            project.name,
            [
                ("id", project.id),
                ("status", _status(project.status)),
                ("description", project.description),
                ("labels", labels),
                ("repository", project.repo_url),
                ("started", when(project.start_time)),
                ("ended", when(project.end_time)),
                ("outcome", _outcome(project) or "not known yet"),
            ],
        )
        table(
            "team",
            ("who", "role", "years", "skills", "allocation"),
            (
                (
                    m.display_name or m.person_id,
                    _role(m.role),
                    f"{m.years_experience:g}",
                    ", ".join(m.skills),
                    f"{m.allocation:.0%}" if m.HasField("allocation") else "",
                )
                for m in project.team
            ),
        )

    return run(work)


def _create(args: argparse.Namespace, _settings: object) -> int:
    async def work(stubs: Stubs) -> None:
        project = project_pb2.Project(
            name=args.name,
            description=args.description,
            status=STATUSES[args.status],
            labels=label_options(args.label),
            repo_url=args.repo_url,
        )
        made = (
            await stubs.registry.CreateProject(pb.CreateProjectRequest(project=project), **stubs.kw)
        ).project
        if args.json:
            print_json(as_dict(made))
        else:
            print(made.id)

    return run(work)
