"""`maestro agent git`: the repository's commits and merged pull requests."""

from __future__ import annotations

import argparse
import os
from functools import partial
from pathlib import Path
from typing import Any

from maestro_grpc.agent import ci, gitcursor, gitlog, gitrepo, heads
from maestro_grpc.agent.commands import common
from maestro_grpc.agent.runner import Collected, Emitter
from maestro_grpc.agent.settings import AgentSettings
from maestro_grpc.config import Settings


def register(sub: common.SubParsers, options: argparse.ArgumentParser) -> None:
    git = sub.add_parser(
        "git",
        parents=[options],
        help="send the repository's commits and merged pull requests",
        description=gitlog.__doc__,
        formatter_class=common.FORMATTER,
    )
    git.add_argument("--repo", type=Path, default=Path("."), help="the repository (default .)")
    git.add_argument(
        "--repo-name", help="name in the events (default: origin remote, CI's name, or the path)"
    )
    git.add_argument("--rev", default="HEAD", help="walk from this revision (default HEAD)")
    git.add_argument("--since", help="only commits after this date (as git log --since)")
    git.add_argument("--full", action="store_true", help="ignore the cursor: walk everything")
    git.set_defaults(handler=handle)


def handle(args: argparse.Namespace, _server_settings: Settings) -> int:
    return common.run(args, "git", partial(collect, args))


def collect(args: argparse.Namespace, emitter: Emitter, settings: AgentSettings) -> Collected:
    """Walk from --rev, minus what the cursor (or, without one, the server) says is sent."""
    project = common.project_of(settings)
    repo = args.repo
    gitrepo.check_repository(repo)
    name = args.repo_name or gitrepo.repository_name(repo, os.environ)
    cursor = gitcursor.GitCursor(settings.state_dir, project, name)
    branch = gitcursor.walk_branch(repo, args.rev, os.environ)
    previous, start = starting_points(args, settings, cursor, project, name)
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
    summary: dict[str, Any] = {"repo": name, "branch": branch, **start, **walk.as_dict()}
    head = walk.head
    after = None
    complete = (
        not args.since and walk.shallow_boundary == 0 and not set(walk.excluded) & cursor.partial()
    )
    sent_head = False
    if head and gitcursor.moves_cursor(branch, walk.head_subject):
        after = partial(cursor.save, branch, head, complete)
        # After its commits in the spool: the next fresh state dir may start here
        # (not again when nothing is new: the head it started from is the server's).
        if complete and (walk.commits or head not in walk.excluded):
            emitter.event(heads.head_event(project, name, branch, head, walk.head_time))
            sent_head = True
    summary["cursor_moved"] = after is not None
    summary["head_sent"] = sent_head
    return Collected(summary=summary, after_spooled=after)


def starting_points(
    args: argparse.Namespace,
    settings: AgentSettings,
    cursor: gitcursor.GitCursor,
    project: str,
    name: str,
) -> tuple[list[str], dict[str, Any]]:
    """The tips to exclude: the cursor's; without one, the heads the server has
    (which the clone holds); none with --full. And what the summary says of them."""
    if args.full:
        return [], {}
    tips = cursor.tips()
    if tips or args.spool_only:
        return tips, {}
    found, why = heads.server_heads(settings, project, name)
    present = gitrepo.existing_commits(args.repo, found)
    start = [sha for sha in found if sha in present]
    info: dict[str, Any] = {"server_heads": len(start)}
    if why:
        info["server_heads_unavailable"] = why
    return start, info
