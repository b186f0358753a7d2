"""`maestro agent ci`: the current pipeline run and its JUnit test reports."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from maestro_grpc.agent import ci, junit
from maestro_grpc.agent.commands import common
from maestro_grpc.agent.runner import Collected, Emitter
from maestro_grpc.agent.settings import AgentSettings
from maestro_grpc.config import Settings


def register(sub: common.SubParsers, options: argparse.ArgumentParser) -> None:
    cmd = sub.add_parser(
        "ci",
        parents=[options],
        help="report the current pipeline run and JUnit test reports",
        description=f"{ci.__doc__}\n{junit.__doc__}",
        formatter_class=common.FORMATTER,
    )
    cmd.add_argument("--provider", help="CI system (github-actions, gitlab-ci, jenkins, ...)")
    cmd.add_argument("--run-id", help="the run's id in that system")
    cmd.add_argument("--attempt", type=int, help="re-run number (default 1)")
    cmd.add_argument(
        "--status", help="queued, running, succeeded, failed, cancelled, skipped (default running)"
    )
    cmd.add_argument("--pipeline-name", help="the pipeline (workflow) name")
    cmd.add_argument("--commit", help="the commit the run built")
    cmd.add_argument("--branch", help="the branch the run built")
    cmd.add_argument("--start-time", help="ISO 8601 or Unix seconds")
    cmd.add_argument("--end-time", help="ISO 8601 or Unix seconds (default now when finished)")
    cmd.add_argument(
        "--stage", action="append", default=[], metavar="NAME=STATUS", help="a stage (repeat)"
    )
    cmd.add_argument(
        "--junit", nargs="+", action="extend", default=[], type=Path, metavar="FILE",
        help="JUnit XML reports to send as test reports",
    )  # fmt: skip
    cmd.add_argument("--suite", help="report all JUnit suites under this one name")
    cmd.add_argument(
        "--job",
        help="the CI job the reports come from (default: from the CI's environment; "
        "part of a report's key, so matrix jobs keep their own reports)",
    )
    cmd.add_argument(
        "--no-run", action="store_true", help="send only the test reports, not the run"
    )
    cmd.set_defaults(handler=handle)


def handle(args: argparse.Namespace, _server_settings: Settings) -> int:
    # What is missing is said before anything is spooled or sent.
    try:
        run = pipeline_run(args)
        if not args.no_run:
            ci.check_identified(run)
        elif not args.junit:
            raise ci.CiError("--no-run without --junit sends nothing")
    except ci.CiError as error:
        return common.usage_error(args, "ci", str(error))
    return common.run(args, "ci", partial(collect, args, run))


def collect(
    args: argparse.Namespace, run: ci.CiRun, emitter: Emitter, settings: AgentSettings
) -> Collected:
    """The run (unless --no-run), then one test report per JUnit suite."""
    project = common.project_of(settings)
    now = datetime.now(UTC)
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
    for suite in suites:
        emitter.event(
            junit.report_event(
                project,
                suite,
                provider=run.provider,
                run_id=run.run_id,
                attempt=run.attempt,
                job=run.job,
            )
        )
    if run.job:
        summary["job"] = run.job
    summary.update(report_totals(suites))
    return Collected(summary=summary)


def pipeline_run(args: argparse.Namespace) -> ci.CiRun:
    """The run the CI's environment describes, with what the options say instead."""
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
    if args.job:
        run.job = args.job
    merge_stages(run, args.stage)
    return run


def merge_stages(run: ci.CiRun, raw_stages: list[str]) -> None:
    """--stage NAME=STATUS: a stage the environment named gets that status, a new one
    is added."""
    named = {s.name: s for s in run.stages}
    for raw in raw_stages:
        stage = ci.parse_stage(raw)
        if stage.name in named:
            named[stage.name].status = stage.status or named[stage.name].status
        else:
            run.stages.append(stage)
            named[stage.name] = stage


def report_totals(suites: list[junit.SuiteResult]) -> dict[str, int]:
    return {
        "test_reports": len(suites),
        "tests_passed": sum(s.passed for s in suites),
        "tests_failed": sum(s.failed for s in suites),
        "tests_errored": sum(s.errored for s in suites),
        "tests_skipped": sum(s.skipped for s in suites),
        "tests_flaky": sum(s.flaky for s in suites),
    }
