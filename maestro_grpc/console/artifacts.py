"""`maestro artifacts search|get|use`."""

from __future__ import annotations

import argparse
from typing import Any

from maestro.registry.v1 import artifact_pb2
from maestro.registry.v1 import registry_service_pb2 as pb
from maestro_grpc.console.run import (
    EXIT_CODES,
    Stubs,
    UsageError,
    as_dict,
    pairs,
    print_json,
    run,
    table,
    when,
)

# Short names on the command line, the enums' names on the wire.
TYPES = {
    name.removeprefix("ARTIFACT_TYPE_").lower(): name
    for name, value in artifact_pb2.ArtifactType.items()
    if value != artifact_pb2.ARTIFACT_TYPE_UNSPECIFIED
}
OUTCOMES = {
    name.removeprefix("USAGE_OUTCOME_").lower(): name
    for name, value in artifact_pb2.UsageOutcome.items()
    if value != artifact_pb2.USAGE_OUTCOME_UNSPECIFIED
}
SORTS = {
    "impact": pb.ARTIFACT_ORDER_BY_IMPACT,
    "recency": pb.ARTIFACT_ORDER_BY_RECENCY,
    "usage": pb.ARTIFACT_ORDER_BY_USAGE,
}


def _type(value: int) -> str:
    return artifact_pb2.ArtifactType.Name(value).removeprefix("ARTIFACT_TYPE_").lower()


def add_commands(commands: Any) -> None:
    artifacts = commands.add_parser(
        "artifacts",
        help="search the library, show an artifact, log a use",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = artifacts.add_subparsers(dest="artifacts_command", metavar="COMMAND", required=True)
    search = kinds.add_parser("search", help="free text, types, tags, impact", epilog=EXIT_CODES)
    search.add_argument("query", nargs="?", default="", help="words in name, description or tags")
    search.add_argument("--type", choices=sorted(TYPES), action="append", default=[])
    search.add_argument("--tag", action="append", default=[], help="must have this tag (repeat)")
    search.add_argument("--min-impact", type=float, default=0.0, metavar="SCORE")
    search.add_argument("--sort", choices=sorted(SORTS), default="impact")
    search.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    search.add_argument("--json", action="store_true", help="JSON for scripts")
    search.set_defaults(handler=_search)
    get = kinds.add_parser("get", help="one artifact", epilog=EXIT_CODES)
    get.add_argument("artifact_id", metavar="ID")
    get.add_argument("--json", action="store_true", help="JSON for scripts")
    get.set_defaults(handler=_get)
    use = kinds.add_parser("use", help="record that a project used an artifact", epilog=EXIT_CODES)
    use.add_argument("artifact_id", metavar="ID")
    use.add_argument("--project", required=True, metavar="ID")
    use.add_argument("--outcome", choices=sorted(OUTCOMES), default="unknown")
    use.add_argument("--purpose", default="")
    use.add_argument("--user", default="")
    use.add_argument("--json", action="store_true", help="JSON for scripts")
    use.set_defaults(handler=_use)


def _search(args: argparse.Namespace, _settings: object) -> int:
    async def work(stubs: Stubs) -> None:
        if not 1 <= args.limit <= 1000:
            raise UsageError("--limit must be between 1 and 1000")
        found = await stubs.registry.SearchArtifacts(
            pb.SearchArtifactsRequest(
                query=args.query,
                types=[TYPES[t] for t in args.type],
                tags_all=args.tag,
                min_impact_score=args.min_impact,
                order_by=SORTS[args.sort],
                page_size=args.limit,
            ),
            **stubs.kw,
        )
        if args.json:
            print_json(as_dict(found))
            return
        table(
            f"{len(found.artifacts)} of {found.total_size} artifacts",
            ("id", "name", "version", "type", "impact", "uses", "tags"),
            (
                (
                    a.id,
                    a.name,
                    a.version,
                    _type(a.type),
                    f"{a.impact_score:.1f}",
                    a.usage_count,
                    ", ".join(a.tags),
                )
                for a in found.artifacts
            ),
        )

    return run(work)


def _get(args: argparse.Namespace, _settings: object) -> int:
    async def work(stubs: Stubs) -> None:
        a = (
            await stubs.registry.GetArtifact(
                pb.GetArtifactRequest(artifact_id=args.artifact_id), **stubs.kw
            )
        ).artifact
        if args.json:
            print_json(as_dict(a))
            return
        pairs(
            f"{a.name} {a.version}",
            [
                ("id", a.id),
                ("type", _type(a.type)),
                ("description", a.description),
                ("tags", ", ".join(a.tags)),
                ("origin project", a.origin_project_id),
                ("creator", a.creator),
                ("impact", f"{a.impact_score:.1f}"),
                ("uses", a.usage_count),
                (
                    "content",
                    f"{a.size_bytes} bytes, sha256 {a.content_sha256}" if a.content_sha256 else "",
                ),
                ("registered", when(a.create_time)),
            ],
        )

    return run(work)


def _use(args: argparse.Namespace, _settings: object) -> int:
    async def work(stubs: Stubs) -> None:
        usage = artifact_pb2.ArtifactUsage(
            artifact_id=args.artifact_id,
            project_id=args.project,
            outcome=OUTCOMES[args.outcome],
            purpose=args.purpose,
            user=args.user,
        )
        logged = await stubs.registry.LogArtifactUsage(
            pb.LogArtifactUsageRequest(artifact_usage=usage), **stubs.kw
        )
        if args.json:
            print_json(as_dict(logged))
            return
        a = logged.artifact
        print(f"logged: {a.name} {a.version} now used {a.usage_count} times, ", end="")
        print(f"impact {a.impact_score:.1f}")

    return run(work)
