"""`maestro agent git|ci|deploy|incident open|resolve|mlflow|stream|flush`."""

from __future__ import annotations

import argparse
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from maestro_grpc.agent import ci, gitlog, jsonlines, junit, releases, runner
from maestro_grpc.agent.runner import Collected, CollectError, Emitter
from maestro_grpc.agent.settings import AgentConfigError, AgentSettings

AGENT_DESCRIPTION = """\
The CI agent: collects process data and streams it to the Metrics service.

Everything is first written to a spool in the state dir (fsynced), then
streamed with StreamMetrics; a batch leaves the spool only once the server
acknowledged it. A crash, a server restart or a dropped connection loses
nothing and stores nothing twice: the next stream resumes from the server's
committed sequence. The agent reconnects with exponential backoff and jitter
and gives up (exit 3, data kept for the next run) only after the deadline
passes without progress.

Settings: MAESTRO_ADDRESS (default localhost:50051), MAESTRO_TOKEN (sent as
'authorization: Bearer <token>'), MAESTRO_TLS=1 / MAESTRO_CA_FILE,
MAESTRO_AGENT_STATE_DIR (default ~/.maestro-agent), MAESTRO_AGENT_PRODUCER_ID
(default: generated once per state dir), MAESTRO_AGENT_DEADLINE_SECONDS
(default 300), MAESTRO_AGENT_PROJECT (default for --project).

Exit codes: 0 stored; 1 stored, but rows refused or input lines invalid;
2 bad options or unreadable input; 3 not delivered (kept in the spool).
"""


def _common() -> argparse.ArgumentParser:
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


def add_commands(commands: Any) -> None:
    common = _common()
    formatter = argparse.RawDescriptionHelpFormatter
    agent = commands.add_parser(
        "agent",
        help="collect process data (git, CI, tests, deployments, MLflow) and stream it",
        description=AGENT_DESCRIPTION,
        formatter_class=formatter,
    )
    sub = agent.add_subparsers(dest="agent_command", metavar="AGENT_COMMAND", required=True)

    git = sub.add_parser(
        "git",
        parents=[common],
        help="send the repository's commits and merged pull requests",
        description=gitlog.__doc__,
        formatter_class=formatter,
    )
    git.add_argument("--repo", type=Path, default=Path("."), help="the repository (default .)")
    git.add_argument(
        "--repo-name", help="name in the events (default: origin remote, CI's name, or the path)"
    )
    git.add_argument("--rev", default="HEAD", help="walk from this revision (default HEAD)")
    git.add_argument("--since", help="only commits after this date (as git log --since)")
    git.add_argument("--full", action="store_true", help="ignore the cursor: walk everything")
    git.set_defaults(handler=_git)

    ci_cmd = sub.add_parser(
        "ci",
        parents=[common],
        help="report the current pipeline run and JUnit test reports",
        description=f"{ci.__doc__}\n{junit.__doc__}",
        formatter_class=formatter,
    )
    ci_cmd.add_argument("--provider", help="CI system (github-actions, gitlab-ci, jenkins, ...)")
    ci_cmd.add_argument("--run-id", help="the run's id in that system")
    ci_cmd.add_argument("--attempt", type=int, help="re-run number (default 1)")
    ci_cmd.add_argument(
        "--status", help="queued, running, succeeded, failed, cancelled, skipped (default running)"
    )
    ci_cmd.add_argument("--pipeline-name", help="the pipeline (workflow) name")
    ci_cmd.add_argument("--commit", help="the commit the run built")
    ci_cmd.add_argument("--branch", help="the branch the run built")
    ci_cmd.add_argument("--start-time", help="ISO 8601 or Unix seconds")
    ci_cmd.add_argument("--end-time", help="ISO 8601 or Unix seconds (default now when finished)")
    ci_cmd.add_argument(
        "--stage", action="append", default=[], metavar="NAME=STATUS", help="a stage (repeat)"
    )
    ci_cmd.add_argument(
        "--junit", nargs="+", action="extend", default=[], type=Path, metavar="FILE",
        help="JUnit XML reports to send as test reports",
    )  # fmt: skip
    ci_cmd.add_argument("--suite", help="report all JUnit suites under this one name")
    ci_cmd.add_argument(
        "--no-run", action="store_true", help="send only the test reports, not the run"
    )
    ci_cmd.set_defaults(handler=_ci)

    deploy = sub.add_parser(
        "deploy",
        parents=[common],
        help="report a deployment",
        description=releases.__doc__,
        formatter_class=formatter,
    )
    deploy.add_argument("--id", help="the deployment's id (default: the CI run's)")
    deploy.add_argument("--environment", default="production", help="(default production)")
    deploy.add_argument(
        "--status",
        default="succeeded",
        help="in_progress, succeeded, failed, rolled_back (default succeeded)",
    )
    deploy.add_argument("--time", help="when it finished (default now)")
    deploy.add_argument(
        "--commit", action="append", default=[], metavar="SHA", help="a shipped commit (repeat)"
    )
    deploy.add_argument(
        "--commit-range",
        metavar="A..B",
        help="the shipped commits, as git rev-list A..B in --repo",
    )
    deploy.add_argument("--repo", type=Path, default=Path("."), help="for HEAD and --commit-range")
    deploy.add_argument("--repo-name", help="the commits' repository name")
    deploy.add_argument("--service", default="", help="the service or model deployed")
    deploy.set_defaults(handler=_deploy)

    incident = sub.add_parser(
        "incident",
        help="report an incident opening or its resolution",
        description=releases.__doc__,
        formatter_class=formatter,
    )
    incident_sub = incident.add_subparsers(
        dest="incident_command", metavar="open|resolve", required=True
    )
    for name in ("open", "resolve"):
        item = incident_sub.add_parser(
            name, parents=[common], help=f"{name} an incident", description=releases.__doc__
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
        item.set_defaults(handler=_incident, incident_action=name)

    mlflow = sub.add_parser(
        "mlflow",
        parents=[common],
        help="import an MLflow experiment's runs",
        description=_mlflow_doc(),
        formatter_class=formatter,
    )
    mlflow.add_argument("--experiment", required=True, help="the experiment's name or id")
    mlflow.add_argument("--tracking-uri", help="MLflow tracking URI (default MLFLOW_TRACKING_URI)")
    mlflow.add_argument("--full", action="store_true", help="ignore the cursor: send every run")
    mlflow.set_defaults(handler=_mlflow)

    stream = sub.add_parser(
        "stream",
        parents=[common],
        help="send JSON lines from stdin (points and events)",
        description=jsonlines.__doc__,
        formatter_class=formatter,
    )
    stream.add_argument(
        "--idle-flush",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="spool a partial batch when stdin is quiet this long (default 1)",
    )
    stream.set_defaults(handler=_stream)

    flush = sub.add_parser(
        "flush",
        parents=[common],
        help="send what is left in the spool",
        description="Deliver the spooled batches (from --spool-only or an earlier failed run).",
    )
    flush.set_defaults(handler=_flush)


def _mlflow_doc() -> str:
    from maestro_grpc.agent import mlflow_import

    return mlflow_import.__doc__ or ""


# ---- settings ------------------------------------------------------------------------


def agent_settings(args: argparse.Namespace) -> AgentSettings:
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


def _project(settings: AgentSettings) -> str:
    if not settings.project_id:
        raise CollectError("no project: pass --project or set MAESTRO_AGENT_PROJECT")
    return settings.project_id


SettingsCollector = Callable[[Emitter, AgentSettings], Collected]


def _run(args: argparse.Namespace, command: str, collect: SettingsCollector) -> int:
    try:
        settings = agent_settings(args)
    except AgentConfigError as error:
        print(f"maestro agent {command}: {error}", file=sys.stderr)
        return runner.EXIT_USAGE
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

    def run(emitter: Emitter) -> Collected:
        try:
            result: Collected = collect(emitter, settings)
            return result
        except (
            gitlog.GitError,
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

    return run


# ---- handlers --------------------------------------------------------------------------


def _git(args: argparse.Namespace, _server_settings: Any) -> int:
    def collect(emitter: Emitter, settings: AgentSettings) -> Collected:
        project = _project(settings)
        repo = args.repo
        gitlog.check_repository(repo)
        name = args.repo_name or gitlog.repository_name(repo, os.environ)
        cursor = gitlog.GitCursor(settings.state_dir, project, name)
        previous = [] if args.full else cursor.tips()
        walk = gitlog.walk_repository(
            repo,
            project_id=project,
            repo_name=name,
            rev=args.rev,
            exclude=previous,
            since=args.since,
            emit=emitter.event,
        )
        pr = ci.pull_request_from_environment(os.environ, project, name)
        if pr is not None:
            emitter.event(pr)
            walk.pull_requests += 1
        summary: dict[str, Any] = {"repo": name, **walk.as_dict()}
        head = walk.head
        after = (lambda: cursor.save([*previous, head])) if head else None
        return Collected(summary=summary, after_spooled=after)

    return _run(args, "git", collect)


def _ci(args: argparse.Namespace, _server_settings: Any) -> int:
    def collect(emitter: Emitter, settings: AgentSettings) -> Collected:
        project = _project(settings)
        now = datetime.now(UTC)
        run = ci.from_environment(os.environ)
        if args.provider:
            run.provider = args.provider
        if args.run_id:
            run.run_id = args.run_id
        if args.attempt is not None:
            if args.attempt < 1:
                raise ci.CiError(f"--attempt must be at least 1, not {args.attempt}")
            run.attempt = args.attempt
        if args.status:
            run.status = ci.parse_status(args.status)
        for option in ("pipeline_name", "branch"):
            if getattr(args, option):
                setattr(run, option, getattr(args, option))
        if args.commit:
            run.commit_sha = args.commit
        if args.start_time:
            run.start_time = ci.parse_time(args.start_time, "--start-time")
        if args.end_time:
            run.end_time = ci.parse_time(args.end_time, "--end-time")
        if args.stage:
            named = {s.name: s for s in run.stages}
            for raw in args.stage:
                stage = ci.parse_stage(raw)
                if stage.name in named:
                    named[stage.name].status = stage.status or named[stage.name].status
                else:
                    run.stages.append(stage)
                    named[stage.name] = stage
        summary: dict[str, Any] = {}
        suites = junit.collect(list(args.junit), args.suite or "") if args.junit else []
        if not args.no_run:
            ci.complete(run, now, ci.RunClock(settings.state_dir))
            emitter.event(ci.pipeline_event(project, run))
            summary.update(
                provider=run.provider,
                run_id=run.run_id,
                attempt=run.attempt,
                status=ci.status_name(run.status),
                pipeline_runs=1,
            )
        elif not args.junit:
            raise ci.CiError("--no-run without --junit sends nothing")
        for suite in suites:
            emitter.event(
                junit.report_event(
                    project,
                    suite,
                    provider=run.provider,
                    run_id=run.run_id,
                    attempt=run.attempt,
                )
            )
        summary.update(
            test_reports=len(suites),
            tests_passed=sum(s.passed for s in suites),
            tests_failed=sum(s.failed for s in suites),
            tests_errored=sum(s.errored for s in suites),
            tests_skipped=sum(s.skipped for s in suites),
        )
        return Collected(summary=summary)

    return _run(args, "ci", collect)


def _deploy(args: argparse.Namespace, _server_settings: Any) -> int:
    def collect(emitter: Emitter, settings: AgentSettings) -> Collected:
        project = _project(settings)
        when = ci.parse_time(args.time, "--time") if args.time else datetime.now(UTC)
        run = ci.from_environment(os.environ)
        deployment_id = args.id or (
            f"{run.provider}/{run.run_id}/{run.attempt}" if run.run_id else ""
        )
        shas = list(args.commit)
        repo_name = args.repo_name or ""
        is_repo = (args.repo / ".git").exists() or bool(
            gitlog.git(args.repo, "rev-parse", "--git-dir", check=False).strip()
        )
        if args.commit_range:
            gitlog.check_repository(args.repo)
            shas += gitlog.git(args.repo, "rev-list", args.commit_range, "--").split()
        if not shas:
            head = gitlog.resolve(args.repo, "HEAD") if is_repo else None
            head = head or run.commit_sha
            if head:
                shas.append(head)
        if not repo_name and is_repo:
            repo_name = gitlog.repository_name(args.repo, os.environ)
        event = releases.deployment_event(
            project,
            deployment_id=deployment_id,
            environment=args.environment,
            status=releases.parse_deploy_status(args.status),
            deploy_time=when,
            commit_shas=shas,
            repo=repo_name,
            service=args.service,
        )
        emitter.event(event)
        return Collected(
            summary={
                "deployment_id": deployment_id,
                "environment": args.environment,
                "commits": len(event.deployment.commit_shas),
                "deployments": 1,
            }
        )

    return _run(args, "deploy", collect)


def _incident(args: argparse.Namespace, _server_settings: Any) -> int:
    def collect(emitter: Emitter, settings: AgentSettings) -> Collected:
        project = _project(settings)
        book = releases.IncidentBook(settings.state_dir)
        now = datetime.now(UTC)
        when = ci.parse_time(args.time, "--time") if args.time else now
        if args.incident_action == "open":
            record = releases.IncidentRecord(incident_id=args.id, open_time=when)
        else:
            known = book.get(project, args.id)
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
        if args.title is not None:
            record.title = args.title
        if args.caused_by is not None:
            record.caused_by_deployment_id = args.caused_by
        if args.environment is not None:
            record.environment = args.environment
        event = record.event(project)
        emitter.event(event)
        return Collected(
            summary={"incident_id": args.id, "action": args.incident_action, "incidents": 1},
            after_spooled=lambda: book.put(project, record),
        )

    return _run(args, f"incident {args.incident_action}", collect)


def _mlflow(args: argparse.Namespace, _server_settings: Any) -> int:
    def collect(emitter: Emitter, settings: AgentSettings) -> Collected:
        from maestro_grpc.agent import mlflow_import

        project = _project(settings)
        uri = args.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI", "")
        summary, save = mlflow_import.import_experiment(
            tracking_uri=uri,
            experiment=args.experiment,
            project_id=project,
            state_dir=settings.state_dir,
            emit_event=emitter.event,
            emit_point=emitter.point,
            full=args.full,
        )
        return Collected(summary=summary.as_dict(), after_spooled=save)

    return _run(args, "mlflow", collect)


def idle_aware_lines(stream: Any, idle_seconds: float, on_idle: Any) -> Iterator[str]:
    """Lines of `stream`; calls on_idle() when none came for idle_seconds, so a
    slow producer's rows do not wait for a full batch."""
    lines: queue.Queue[str | None] = queue.Queue(maxsize=10_000)

    def pump() -> None:
        try:
            for line in stream:
                lines.put(line)
        finally:
            lines.put(None)

    threading.Thread(target=pump, name="agent-stdin", daemon=True).start()
    flushed = True
    while True:
        try:
            item = lines.get(timeout=idle_seconds)
        except queue.Empty:
            if not flushed:
                on_idle()
                flushed = True
            continue
        if item is None:
            return
        flushed = False
        yield item


def _stream(args: argparse.Namespace, _server_settings: Any) -> int:
    def collect(emitter: Emitter, settings: AgentSettings) -> Collected:
        def invalid(number: int, error: str) -> None:
            print(f"maestro agent stream: line {number}: {error}", file=sys.stderr)

        summary = jsonlines.read_lines(
            idle_aware_lines(sys.stdin, max(0.05, args.idle_flush), emitter.flush),
            settings.project_id,
            emit_point=emitter.point,
            emit_event=emitter.event,
            on_invalid=invalid,
        )
        return Collected(summary=summary.as_dict(), partial=bool(summary.invalid))

    return _run(args, "stream", collect)


def _flush(args: argparse.Namespace, _server_settings: Any) -> int:
    def collect(emitter: Emitter, settings: AgentSettings) -> Collected:
        return Collected(summary={})

    return _run(args, "flush", collect)
