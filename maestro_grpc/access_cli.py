"""`maestro token ...`, `maestro whoami`, `maestro audit`: tokens and the audit log for people.

Every command but `token bootstrap` talks to a server as the agent does
(MAESTRO_ADDRESS, MAESTRO_TOKEN with an admin token, MAESTRO_TLS,
MAESTRO_CA_FILE, MAESTRO_TLS_CERT_FILE and MAESTRO_TLS_KEY_FILE for mutual
TLS). `token bootstrap` works on the store directly (MAESTRO_DATABASE_URL or
the data dir) to make the first admin token, once.

A secret is printed alone on stdout (so `$(maestro token create ...)`
captures it); everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import grpc.aio

from maestro.access.v1 import access_service_pb2 as pb
from maestro.access.v1 import access_service_pb2_grpc
from maestro_client import ClientSettings, ConfigError, open_channel, token_metadata
from maestro_grpc.config import Settings

ROLES = {
    "admin": pb.ROLE_ADMIN,
    "writer": pb.ROLE_WRITER,
    "reader": pb.ROLE_READER,
    "agent": pb.ROLE_AGENT,
}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_DURATION = re.compile(r"^(\d+)([smhdw])$")


def duration(text: str) -> timedelta:
    """'90d', '12h', '30m', '2w', '45s'."""
    found = _DURATION.match(text.strip())
    if not found or int(found.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 90d, 12h, 30m or 2w")
    return timedelta(seconds=int(found.group(1)) * _UNITS[found.group(2)])


def add_commands(commands: Any) -> None:
    token = commands.add_parser(
        "token",
        help="make, list and revoke access tokens",
        description="Access tokens: each has a role (admin, writer, reader, agent) and "
        "optionally a set of projects it is limited to. Talks to the server at "
        "MAESTRO_ADDRESS with the admin token in MAESTRO_TOKEN; 'bootstrap' works on the "
        "store directly.",
    )
    kinds = token.add_subparsers(dest="token_command", metavar="COMMAND", required=True)
    create = kinds.add_parser("create", help="make a token; prints its secret alone on stdout")
    create.add_argument("--name", required=True, help="who or what holds it")
    create.add_argument("--role", required=True, choices=sorted(ROLES))
    create.add_argument(
        "--project",
        action="append",
        default=[],
        metavar="ID",
        help="limit it to this project (repeat for several; none: every project)",
    )
    create.add_argument("--expires-in", type=duration, metavar="DURATION", help="e.g. 90d, 12h")
    create.set_defaults(handler=_create)
    listing = kinds.add_parser("list", help="list the tokens (never their secrets)")
    listing.add_argument("--all", action="store_true", help="revoked and expired ones too")
    listing.set_defaults(handler=_list)
    revoke = kinds.add_parser("revoke", help="revoke a token: refused everywhere within a second")
    revoke.add_argument("token_id", metavar="ID")
    revoke.set_defaults(handler=_revoke)
    bootstrap = kinds.add_parser(
        "bootstrap",
        help="make the first admin token in the store; refused once an admin token exists",
    )
    bootstrap.add_argument("--name", default="bootstrap-admin", help="its name")
    bootstrap.add_argument("--data-dir", type=Path, help="as for serve")
    bootstrap.add_argument("--database-url", help="overrides MAESTRO_DATABASE_URL")
    bootstrap.set_defaults(handler=_bootstrap)

    whoami = commands.add_parser("whoami", help="the token MAESTRO_TOKEN is, as the server sees it")
    whoami.set_defaults(handler=_whoami)

    audit = commands.add_parser("audit", help="print audit events, newest first")
    audit.add_argument("--project", metavar="ID", help="only events of this project")
    audit.add_argument("--token", metavar="ID", help="only this token's events")
    audit.add_argument("--method", help="only this method (its name, e.g. UpdateProject)")
    audit.add_argument("--since", type=duration, metavar="DURATION", help="e.g. 1d, 2h")
    audit.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    audit.set_defaults(handler=_audit)


def _client_settings() -> ClientSettings:
    return ClientSettings.from_env()


def _run(work: Any) -> int:
    try:
        settings = _client_settings()
    except ConfigError as error:
        print(f"maestro: {error}", file=sys.stderr)
        return 2

    async def call() -> int:
        # The token goes as call metadata (each command passes it on), so the
        # channel attaches none of its own; no retries: token writes carry no
        # request_id.
        async with open_channel(settings, attach_token=False) as channel:
            stub = access_service_pb2_grpc.AccessServiceStub(channel)
            result: int = await work(stub, token_metadata(settings.token))
            return result

    try:
        return asyncio.run(call())
    except grpc.aio.AioRpcError as error:
        print(f"maestro: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1


def _time(ts: Any) -> str:
    return ts.ToDatetime(tzinfo=UTC).isoformat(timespec="seconds") if ts.seconds else "-"


def _create(args: argparse.Namespace, _settings: Settings) -> int:
    request = pb.CreateTokenRequest(name=args.name, role=ROLES[args.role], project_ids=args.project)
    if args.expires_in is not None:
        request.expire_time.FromDatetime(datetime.now(UTC) + args.expires_in)

    async def work(stub: Any, metadata: Any) -> int:
        made = await stub.CreateToken(request, metadata=metadata, timeout=30)
        print(made.secret)
        scope = ", ".join(made.token.project_ids) or "every project"
        print(
            f"token {made.token.id} ({made.token.name}, {args.role}, {scope}); "
            "this is the only time its secret is shown",
            file=sys.stderr,
        )
        return 0

    return _run(work)


def _list(args: argparse.Namespace, _settings: Settings) -> int:
    async def work(stub: Any, metadata: Any) -> int:
        page_token = ""
        print("id\tname\trole\tprojects\tprefix\tcreated\texpires\trevoked\tlast used")
        while True:
            page = await stub.ListTokens(
                pb.ListTokensRequest(include_inactive=args.all, page_token=page_token),
                metadata=metadata,
                timeout=30,
            )
            for t in page.tokens:
                role = pb.Role.Name(t.role).removeprefix("ROLE_").lower()
                print(
                    "\t".join(
                        [
                            t.id or "(static)",
                            t.name,
                            role,
                            ",".join(t.project_ids) or "*",
                            t.secret_prefix + "...",
                            _time(t.create_time),
                            _time(t.expire_time),
                            _time(t.revoke_time),
                            _time(t.last_use_time),
                        ]
                    )
                )
            page_token = page.next_page_token
            if not page_token:
                return 0

    return _run(work)


def _revoke(args: argparse.Namespace, _settings: Settings) -> int:
    async def work(stub: Any, metadata: Any) -> int:
        done = await stub.RevokeToken(
            pb.RevokeTokenRequest(token_id=args.token_id), metadata=metadata, timeout=30
        )
        print(f"revoked {done.token.id} ({done.token.name}) at {_time(done.token.revoke_time)}")
        return 0

    return _run(work)


def _whoami(_args: argparse.Namespace, _settings: Settings) -> int:
    async def work(stub: Any, metadata: Any) -> int:
        me = await stub.WhoAmI(pb.WhoAmIRequest(), metadata=metadata, timeout=30)
        if not me.HasField("token"):
            print("no token (the server requires none)")
            return 0
        role = pb.Role.Name(me.token.role).removeprefix("ROLE_").lower()
        scope = ", ".join(me.token.project_ids) or "every project"
        print(f"{me.token.name} ({me.token.id or 'static'}): {role} of {scope}")
        return 0

    return _run(work)


def _audit(args: argparse.Namespace, _settings: Settings) -> int:
    request = pb.ListAuditEventsRequest(
        project_id=args.project or "", token_id=args.token or "", method=args.method or ""
    )
    if args.since is not None:
        request.start_time.FromDatetime(datetime.now(UTC) - args.since)

    async def work(stub: Any, metadata: Any) -> int:
        shown = 0
        while shown < args.limit:
            request.page_size = min(1000, args.limit - shown)
            page = await stub.ListAuditEvents(request, metadata=metadata, timeout=30)
            for e in page.audit_events:
                who = e.token_name or "-"
                what = " ".join(e.resources) or "-"
                extra = f" ({e.detail})" if e.detail else ""
                print(f"{_time(e.time)}\t{e.code}\t{who}\t{e.method}\t{what}\t{e.peer}{extra}")
                shown += 1
            if not page.next_page_token:
                break
            request.page_token = page.next_page_token
        return 0

    return _run(work)


def _bootstrap(args: argparse.Namespace, settings: Settings) -> int:
    from maestro_grpc.app import bootstrap_admin
    from maestro_grpc.errors import FailedPrecondition

    try:
        made = asyncio.run(bootstrap_admin(settings, args.name))
    except FailedPrecondition as error:
        print(f"maestro: {error}", file=sys.stderr)
        return 1
    print(made.secret)
    print(
        f"admin token {made.token.id} ({made.token.name}): shown only this once; "
        "send it as 'authorization: Bearer <token>' (MAESTRO_TOKEN for the CLI and agent)",
        file=sys.stderr,
    )
    return 0
