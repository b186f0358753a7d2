"""PeopleService's protos <-> the directory's records, with each field's checks."""

from __future__ import annotations

import re
import zoneinfo

from maestro.people.v1 import people_service_pb2 as pb
from maestro_grpc.errors import Violations
from maestro_grpc.people.model import (
    Experience,
    Membership,
    Person,
    PersonFields,
    PersonSkill,
    Profile,
    SkillLevel,
    Unlinked,
    Uses,
)
from maestro_grpc.wire import checks
from maestro_grpc.wire.protoconv import set_timestamp

HANDLE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
UPDATABLE = ("display_name", "email", "handle", "skills", "time_zone", "active")


def level_from_proto(value: int) -> SkillLevel | None:
    return None if value == pb.SKILL_LEVEL_UNSPECIFIED else SkillLevel(value)


def _level_name(level: SkillLevel | None) -> str:
    return pb.SkillLevel.Name(int(level) if level is not None else 0)


def level_field(v: Violations, value: int, field: str) -> SkillLevel | None:
    if value not in pb.SkillLevel.values():
        v.add(field, f"{value} is not a SkillLevel")
        return None
    return level_from_proto(value)


def _skills(v: Violations, msg: pb.Person, prefix: str) -> tuple[PersonSkill, ...]:
    if not checks.bounded(v, msg.skills, f"{prefix}.skills", checks.MAX_SKILLS):
        return ()
    out: dict[str, PersonSkill] = {}
    for i, entry in enumerate(msg.skills):
        name = checks.skills(v, [entry.skill], f"{prefix}.skills[{i}].skill")
        if not entry.skill.strip():
            v.add(f"{prefix}.skills[{i}].skill", "is required")
        level = level_field(v, entry.level, f"{prefix}.skills[{i}].level")
        if name and name[0] in out:
            v.add(f"{prefix}.skills[{i}].skill", f"{name[0]!r} is given twice")
        elif name:
            out[name[0]] = PersonSkill(name[0], level or SkillLevel.INTERMEDIATE)
    return tuple(out.values())


def _time_zone(v: Violations, value: str, field: str) -> str:
    value = value.strip()
    if not value:
        return ""
    try:
        zoneinfo.ZoneInfo(value)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        v.add(field, f"{value!r} is not an IANA time zone")
    return value


def person_fields(
    v: Violations, msg: pb.Person, prefix: str = "person"
) -> tuple[PersonFields, set[str]]:
    """The fields `msg` gives, checked (every violation at once), and which it sets."""
    email = checks.text(v, msg.email, f"{prefix}.email", max_len=254, required=True).lower()
    if email and not EMAIL.match(email):
        v.add(f"{prefix}.email", "must be an e-mail address (one '@')")
    handle = msg.handle.strip().lower().lstrip("@")
    if not HANDLE.match(handle):
        v.add(
            f"{prefix}.handle",
            "must be 2-40 characters of [a-z0-9._-], starting with a letter or digit",
        )
    fields = PersonFields(
        display_name=checks.text(
            v, msg.display_name, f"{prefix}.display_name", max_len=200, required=True
        ),
        email=email,
        handle=handle,
        skills=_skills(v, msg, prefix),
        time_zone=_time_zone(v, msg.time_zone, f"{prefix}.time_zone"),
        active=msg.active,
    )
    present = {
        name
        for name, given in (
            ("display_name", bool(msg.display_name)),
            ("email", bool(msg.email)),
            ("handle", bool(msg.handle)),
            ("skills", bool(msg.skills)),
            ("time_zone", bool(msg.time_zone)),
        )
        if given
    }
    return fields, present


def person_to_proto(p: Person) -> pb.Person:
    msg = pb.Person(
        id=str(p.id),
        display_name=p.display_name,
        email=p.email,
        handle=p.handle,
        skills=[pb.PersonSkill(skill=s.skill, level=_level_name(s.level)) for s in p.skills],
        time_zone=p.time_zone,
        active=p.active,
        availability=round(p.availability, 6),
    )
    set_timestamp(msg.create_time, p.create_time)
    set_timestamp(msg.update_time, p.update_time)
    return msg


def _membership(m: Membership) -> pb.ProfileMembership:
    msg = pb.ProfileMembership(
        team_member_id=str(m.member_id),
        project_id=str(m.project_id),
        project_name=m.project_name,
        role=m.role,
        allocation=m.allocation,
        skills=m.skills,
    )
    set_timestamp(msg.join_time, m.join_time)
    set_timestamp(msg.leave_time, m.leave_time)
    return msg


def _use(u: Uses) -> pb.ProfileUse:
    return pb.ProfileUse(
        artifact_id=str(u.artifact_id),
        name=u.name,
        version=u.version,
        uses=u.total,
        helpful=u.outcomes.get("helpful", 0),
        neutral=u.outcomes.get("neutral", 0),
        harmful=u.outcomes.get("harmful", 0),
        unknown=u.outcomes.get("unknown", 0),
    )


def _experience(e: Experience) -> pb.SkillExperience:
    return pb.SkillExperience(
        skill=e.skill,
        projects=e.projects,
        years=e.years,
        level=_level_name(e.level),
    )


def profile_to_proto(p: Profile) -> pb.GetPersonProfileResponse:
    return pb.GetPersonProfileResponse(
        person=person_to_proto(p.person),
        memberships=[_membership(m) for m in p.memberships],
        created=[
            pb.ProfileArtifact(artifact_id=str(a.artifact_id), name=a.name, version=a.version)
            for a in p.made
        ],
        used=[_use(u) for u in p.used],
        experience=[_experience(e) for e in p.experience],
        current_allocation=p.current_allocation,
    )


def unlinked_to_proto(u: Unlinked) -> pb.UnlinkedTeamMember:
    return pb.UnlinkedTeamMember(
        team_member_id=str(u.member_id),
        project_id=str(u.project_id),
        person_id=u.person_id,
        display_name=u.display_name,
        reason=u.reason,
    )
