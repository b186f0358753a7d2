"""The `maestro` command: serve, migrate (and, as their issues land, workers, agent, demo)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from maestro_grpc import logs
from maestro_grpc.config import ConfigError, Settings

DESCRIPTION = """\
Maestro: the registry that remembers every ML project and learns from all of them.

Settings come from MAESTRO_* environment variables (see the README); the
options below override them.
"""


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        help="address to listen on (MAESTRO_HOST, default localhost; any non-loopback "
        "address requires MAESTRO_AUTH_TOKENS)",
    )
    parser.add_argument(
        "--port", type=int, help="gRPC port (MAESTRO_PORT, default 50051; 0 picks one)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="where the embedded store and blobs live (MAESTRO_DATA_DIR, default ./.maestro)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="maestro",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the gRPC server (and the web UI)",
        description="Run the gRPC server: Registry, Metrics and Prediction services, health, "
        "reflection, Prometheus metrics on MAESTRO_METRICS_PORT, and the web UI on "
        "MAESTRO_WEB_HOST:MAESTRO_WEB_PORT (localhost:8080; MAESTRO_WEB_PORT=off for none). "
        "On the embedded SQLite store, migrations are applied at start. Stops gracefully on "
        "SIGTERM or SIGINT.",
    )
    _add_server_options(serve)

    migrate = commands.add_parser(
        "migrate",
        help="apply the store's schema migrations, then exit",
        description="Apply the Alembic migrations to the store named by MAESTRO_DATABASE_URL "
        "(or the SQLite file in the data dir). Safe to run from several replicas at once.",
    )
    migrate.add_argument("--data-dir", type=Path, help="as for serve")
    migrate.add_argument("--database-url", help="overrides MAESTRO_DATABASE_URL")

    # Each area adds its own commands; a command's handler is set with
    # parser.set_defaults(handler=fn), fn(args, settings) -> exit code.
    from maestro_grpc.access_cli import add_commands as add_access
    from maestro_grpc.agent.cli import add_commands as add_agent
    from maestro_grpc.console.commands import add_commands as add_console
    from maestro_grpc.demo.commands import add_commands as add_demo
    from maestro_grpc.web.cli import add_commands as add_web
    from maestro_grpc.worker_cli import add_commands as add_workers

    for add in (add_workers, add_access, add_agent, add_demo, add_web, add_console):
        add(commands)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    return settings.with_overrides(
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        data_dir=getattr(args, "data_dir", None),
        database_url=getattr(args, "database_url", None),
    )


async def _migrate(settings: Settings) -> str | None:
    from sqlalchemy.exc import DBAPIError

    from maestro_grpc.store.db import Database
    from maestro_grpc.store.migrate import current_revision, upgrade

    db = Database(settings.store_url)
    try:
        await upgrade(db)
        return await current_revision(db)
    except (DBAPIError, OSError) as error:
        # The database is missing, refuses us, or is not there at all: say so, plainly.
        cause = getattr(error, "orig", None) or error
        raise ConfigError(f"cannot migrate the store: {cause}") from None
    finally:
        await db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
    except ConfigError as error:
        print(f"maestro: {error}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)

    if args.command == "serve":
        from maestro_grpc.allocator import hold_mmap_threshold
        from maestro_grpc.server import serve

        hold_mmap_threshold()
        try:
            asyncio.run(serve(settings))
        except ConfigError as error:
            print(f"maestro: {error}", file=sys.stderr)
            return 2
        return 0
    if args.command == "migrate":
        try:
            revision = asyncio.run(_migrate(settings))
        except ConfigError as error:
            print(f"maestro: {error}", file=sys.stderr)
            return 2
        print(f"maestro: store at revision {revision}")
        return 0
    handler = getattr(args, "handler", None)
    if handler is None:  # pragma: no cover - argparse requires a sub-command
        build_parser().print_help()
        return 2
    result: int = handler(args, settings)
    return result


if __name__ == "__main__":
    sys.exit(main())
