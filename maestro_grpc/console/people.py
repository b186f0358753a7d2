"""`maestro people list|get` (the directory) and `maestro feed` (the caller's activity)."""

from __future__ import annotations

import argparse
from typing import Any

from maestro.people.v1 import collaboration_service_pb2 as cs
from maestro.people.v1 import collaboration_service_pb2_grpc as csg
from maestro.people.v1 import people_service_pb2 as ps
from maestro.people.v1 import people_service_pb2_grpc as psg
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

# Short names on the command line, the enum's names on the wire.
LEVELS = {
    name.removeprefix("SKILL_LEVEL_").lower(): value
    for name, value in ps.SkillLevel.items()
    if value != ps.SKILL_LEVEL_UNSPECIFIED
}


def _level(value: int) -> str:
    if value == ps.SKILL_LEVEL_UNSPECIFIED:
        return ""
    return ps.SkillLevel.Name(value).removeprefix("SKILL_LEVEL_").lower()


def _kind(value: int) -> str:
    return cs.ActivityKind.Name(value).removeprefix("ACTIVITY_KIND_").lower().replace("_", " ")


def _skills(person: ps.Person) -> str:
    return ", ".join(f"{s.skill} ({_level(s.level)})" for s in person.skills)


def add_commands(commands: Any) -> None:
    people = commands.add_parser(
        "people",
        help="find people in the directory and show their profiles",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = people.add_subparsers(dest="people_command", metavar="COMMAND", required=True)
    listing = kinds.add_parser(
        "list",
        help="people by handle, filtered by skill, level and availability",
        epilog=EXIT_CODES,
    )
    listing.add_argument("--skill", action="append", default=[], help="must have it (repeatable)")
    listing.add_argument("--min-level", choices=sorted(LEVELS, key=LEVELS.__getitem__))
    listing.add_argument("--min-availability", type=float, default=0.0, metavar="FTE")
    listing.add_argument("--include-inactive", action="store_true")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    listing.add_argument("--json", action="store_true", help="JSON for scripts")
    listing.set_defaults(handler=_list)
    get = kinds.add_parser(
        "get", help="one person's profile: projects, artifacts, experience", epilog=EXIT_CODES
    )
    get.add_argument("person_id", metavar="ID")
    get.add_argument("--json", action="store_true", help="JSON for scripts")
    get.set_defaults(handler=_get)

    feed = commands.add_parser(
        "feed",
        help="your activity feed, newest first (a token that names a person)",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    feed.add_argument("--unread", action="store_true", help="only what you have not read")
    feed.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    feed.add_argument("--json", action="store_true", help="JSON for scripts")
    feed.set_defaults(handler=_feed)


def _list(args: argparse.Namespace, _settings: object) -> int:
    async def work(stubs: Stubs) -> None:
        if args.limit < 1:
            raise UsageError("--limit must be at least 1")
        request = ps.SearchPeopleRequest(
            skills=args.skill,
            min_level=LEVELS[args.min_level] if args.min_level else ps.SKILL_LEVEL_UNSPECIFIED,  # type: ignore[arg-type]
            min_availability=args.min_availability,
            include_inactive=args.include_inactive,
            page_size=min(1000, args.limit),
        )
        directory = psg.PeopleServiceStub(stubs.client.channel)
        found: list[ps.Person] = [
            person
            async for person in stubs.client.pages(
                directory.SearchPeople, request, "people", limit=args.limit, **stubs.kw
            )
        ]
        if args.json:
            print_json({"people": [as_dict(p) for p in found]})
            return
        table(
            f"{len(found)} people",
            ("handle", "name", "e-mail", "skills", "available", "active", "id"),
            (
                (
                    p.handle,
                    p.display_name,
                    p.email,
                    _skills(p),
                    f"{p.availability:.0%}",
                    "yes" if p.active else "no",
                    p.id,
                )
                for p in found
            ),
        )

    return run(work)


def _get(args: argparse.Namespace, _settings: object) -> int:
    async def work(stubs: Stubs) -> None:
        directory = psg.PeopleServiceStub(stubs.client.channel)
        profile = await directory.GetPersonProfile(
            ps.GetPersonProfileRequest(person_id=args.person_id), **stubs.kw
        )
        if args.json:
            print_json(as_dict(profile))
            return
        person = profile.person
        pairs(
            person.display_name,
            [
                ("id", person.id),
                ("handle", person.handle),
                ("e-mail", person.email),
                ("time zone", person.time_zone),
                ("active", "yes" if person.active else "no"),
                ("skills", _skills(person)),
                ("current allocation", f"{profile.current_allocation:.0%}"),
                ("available", f"{person.availability:.0%}"),
            ],
        )
        table(
            "projects",
            ("project", "role", "allocation", "joined", "left"),
            (
                (
                    m.project_name,
                    m.role,
                    f"{m.allocation:.0%}",
                    when(m.join_time),
                    when(m.leave_time),
                )
                for m in profile.memberships
            ),
        )
        table(
            "experience",
            ("skill", "level", "projects", "years"),
            ((e.skill, _level(e.level), e.projects, f"{e.years:.1f}") for e in profile.experience),
        )
        table(
            "artifacts used",
            ("artifact", "uses", "helpful", "neutral", "harmful"),
            (
                (f"{u.name} {u.version}", u.uses, u.helpful, u.neutral, u.harmful)
                for u in profile.used
            ),
        )

    return run(work)


def _feed(args: argparse.Namespace, _settings: object) -> int:
    async def work(stubs: Stubs) -> None:
        if args.limit < 1:
            raise UsageError("--limit must be at least 1")
        collab = csg.CollaborationServiceStub(stubs.client.channel)
        request = cs.ListActivityRequest(page_size=min(1000, args.limit), unread_only=args.unread)
        first = await collab.ListActivity(request, **stubs.kw)
        events: list[cs.ActivityEvent] = list(first.events)
        if first.next_page_token and len(events) < args.limit:
            request.page_token = first.next_page_token
            events += [
                e
                async for e in stubs.client.pages(
                    collab.ListActivity,
                    request,
                    "events",
                    limit=args.limit - len(events),
                    **stubs.kw,
                )
            ]
        events = events[: args.limit]
        if args.json:
            print_json({"events": [as_dict(e) for e in events], "unread_count": first.unread_count})
            return
        table(
            f"{len(events)} events, {first.unread_count} unread",
            ("when", "what", "summary", "project"),
            ((when(e.create_time), _kind(e.kind), e.summary, e.project_id) for e in events),
        )

    return run(work)
