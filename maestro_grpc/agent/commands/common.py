"""What every `maestro agent` sub-command shares: its options, its settings, its run.

A sub-command's collector reads its input and emits rows; `run` turns the
options into `AgentSettings` and hands the collector to the runner, which
spools and streams what it emits.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from maestro_grpc.agent import ci, gitrepo, junit, releases, runner
from maestro_grpc.agent.runner import Collected, CollectError, Emitter
from maestro_grpc.agent.settings import AgentConfigError, AgentSettings

FORMATTER = argparse.RawDescriptionHelpFormatter

if TYPE_CHECKING:
    # What add_subparsers() returns (argparse keeps the class private).
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]
SettingsCollector = Callable[[Emitter, AgentSettings], Collected]


def options() -> argparse.ArgumentParser:
    """The options every sub-command takes (a parent parser)."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("agent options")
    group.add_argument("--project", help="the project's UUID (MAESTRO_AGENT_PROJECT)")
    group.add_argument("--address", help="server host:port (MAESTRO_ADDRESS)")
    group.add_argument(
        "--tls", action="store_true", default=None, help="connect over TLS (MAESTRO_TLS=1)"
    )
    group.add_argument(
        "--ca-file", type=Path, help="PEM CA bundle for TLS (MAESTRO_CA_FILE; implies --tls)"
    )
    group.add_argument(
        "--state-dir", type=Path, help="spool, cursors, producer id (MAESTRO_AGENT_STATE_DIR)"
    )
    group.add_argument("--producer-id", help="stream producer id (MAESTRO_AGENT_PRODUCER_ID)")
    group.add_argument(
        "--deadline",
        type=float,
        metavar="SECONDS",
        help="give up after this long without progress (MAESTRO_AGENT_DEADLINE_SECONDS)",
    )
    group.add_argument(
        "--json", action="store_true", help="print a JSON summary on stdout (no progress bar)"
    )
    group.add_argument("--quiet", action="store_true", help="print nothing but errors")
    group.add_argument(
        "--spool-only",
        action="store_true",
        help="collect into the spool and stop; a later command (or 'flush') sends it",
    )
    return common


def agent_settings(args: argparse.Namespace) -> AgentSettings:
    """The environment's settings, with the options' overrides."""
    base = AgentSettings.from_env()
    changes: dict[str, Any] = {}
    for option, name in (
        ("address", "address"),
        ("state_dir", "state_dir"),
        ("producer_id", "producer_id"),
        ("deadline", "deadline_seconds"),
        ("project", "project_id"),
        ("ca_file", "ca_file"),
    ):
        value = getattr(args, option, None)
        if value is not None:
            changes[name] = value
    if getattr(args, "tls", None) or changes.get("ca_file"):
        changes["tls"] = True
    return replace(base, **changes).checked()


def project_of(settings: AgentSettings) -> str:
    if not settings.project_id:
        raise CollectError("no project: pass --project or set MAESTRO_AGENT_PROJECT")
    return settings.project_id


def usage_error(args: argparse.Namespace, command: str, message: str) -> int:
    """A usage error found before anything was collected or sent: the message on
    stderr (and, with --json, the summary that says so); exit code 2."""
    print(f"maestro agent {command}: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        outcome = runner.Outcome(command=command, error=message, exit_code=runner.EXIT_USAGE)
        sys.stdout.write(json.dumps(outcome.as_dict(), default=str) + "\n")
    return runner.EXIT_USAGE


def run(args: argparse.Namespace, command: str, collect: SettingsCollector) -> int:
    """Run `collect` as `maestro agent <command>`; the exit code."""
    try:
        settings = agent_settings(args)
    except AgentConfigError as error:
        return usage_error(args, command, str(error))
    return runner.run_command(
        command,
        _guarded(collect, settings),
        settings,
        as_json=args.json,
        quiet=args.quiet,
        send=not args.spool_only,
    )


def _guarded(collect: SettingsCollector, settings: AgentSettings) -> runner.Collector:
    """Turns the collectors' own errors into CollectError (exit 2, clear message)."""

    def guarded(emitter: Emitter) -> Collected:
        try:
            return collect(emitter, settings)
        except (
            gitrepo.GitError,
            ci.CiError,
            junit.JUnitError,
            releases.ReleaseError,
        ) as error:
            raise CollectError(str(error)) from None
        except Exception as error:
            from maestro_grpc.agent.mlflow_import import MlflowImportError

            if isinstance(error, MlflowImportError):
                raise CollectError(str(error)) from None
            raise

    return guarded
