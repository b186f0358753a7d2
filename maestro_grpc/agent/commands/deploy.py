"""`maestro agent deploy`: a deployment and the commits it shipped."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from maestro_grpc.agent import ci, gitrepo, releases
from maestro_grpc.agent.commands import common
from maestro_grpc.agent.runner import Collected, Emitter
from maestro_grpc.agent.settings import AgentSettings
from maestro_grpc.config import Settings


def register(sub: common.SubParsers, options: argparse.ArgumentParser) -> None:
    deploy = sub.add_parser(
        "deploy",
        parents=[options],
        help="report a deployment",
        description=releases.__doc__,
        formatter_class=common.FORMATTER,
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
    deploy.set_defaults(handler=handle)


def handle(args: argparse.Namespace, _server_settings: Settings) -> int:
    return common.run(args, "deploy", partial(collect, args))


def collect(args: argparse.Namespace, emitter: Emitter, settings: AgentSettings) -> Collected:
    project = common.project_of(settings)
    when = ci.parse_time(args.time, "--time") if args.time else datetime.now(UTC)
    run = ci.from_environment(os.environ)
    deployment_id = args.id or (f"{run.provider}/{run.run_id}/{run.attempt}" if run.run_id else "")
    is_repo = (args.repo / ".git").exists() or bool(
        gitrepo.git(args.repo, "rev-parse", "--git-dir", check=False).strip()
    )
    repo_name = args.repo_name or ""
    if not repo_name and is_repo:
        repo_name = gitrepo.repository_name(args.repo, os.environ)
    event = releases.deployment_event(
        project,
        deployment_id=deployment_id,
        environment=args.environment,
        status=releases.parse_deploy_status(args.status),
        deploy_time=when,
        commit_shas=shipped_commits(args, run, is_repo),
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


def shipped_commits(args: argparse.Namespace, run: ci.CiRun, is_repo: bool) -> list[str]:
    """--commit and --commit-range; without either, HEAD (or the CI run's commit)."""
    shas = list(args.commit)
    if args.commit_range:
        gitrepo.check_repository(args.repo)
        shas += gitrepo.git(args.repo, "rev-list", args.commit_range, "--").split()
    if not shas:
        head = gitrepo.resolve(args.repo, "HEAD") if is_repo else None
        head = head or run.commit_sha
        if head:
            shas.append(head)
    return shas
