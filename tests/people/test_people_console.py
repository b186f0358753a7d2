"""`maestro people list|get` and `maestro feed`, run as a person runs them, against a real
server with tokens on both stores."""

from __future__ import annotations

import asyncio
import json
import os
import sys

from maestro.people.v1 import collaboration_service_pb2 as cs
from maestro.people.v1 import people_service_pb2 as ps
from maestro.people.v1 import people_service_pb2_grpc as psg
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from tests.access.conftest import Secured, bearer
from tests.people.test_collaboration import collab, someone


async def maestro(secured: Secured, token: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "maestro_grpc",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={
            **os.environ,
            "MAESTRO_ADDRESS": f"127.0.0.1:{secured.server.port}",
            "MAESTRO_TOKEN": token,
            "COLUMNS": "200",
        },
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_people_and_the_feed_from_the_command_line(secured: Secured) -> None:
    admin = bearer(secured.admin)
    directory = psg.PeopleServiceStub(secured.channel)
    ada = await someone(secured, "ada", "reader")
    await directory.UpdatePerson(
        ps.UpdatePersonRequest(
            person=ps.Person(
                id=ada.person.id,
                skills=[ps.PersonSkill(skill="spark", level=ps.SKILL_LEVEL_EXPERT)],
            ),
            update_mask={"paths": ["skills"]},
        ),
        metadata=admin,
    )
    await someone(secured, "bob", "reader")
    churn = await secured.project("churn")
    await secured.registry.AddTeamMember(
        rs.AddTeamMemberRequest(
            project_id=churn,
            team_member=pp.TeamMember(
                person_id="ada@x.org", role=pp.TEAM_ROLE_DATA_ENGINEER, allocation=0.6
            ),
        ),
        metadata=admin,
    )

    code, out, err = await maestro(secured, secured.admin, "people", "list", "--json")
    assert code == 0, err
    listed = json.loads(out)["people"]
    assert [p["handle"] for p in listed] == ["ada", "bob"]
    assert listed[0]["availability"] == 0.4
    code, out, err = await maestro(
        secured, secured.admin, "people", "list", "--skill", "spark", "--min-level", "expert"
    )
    assert code == 0, err
    assert "1 people" in out
    assert "ada" in out
    assert "bob" not in out
    assert "spark (expert)" in out

    code, out, err = await maestro(secured, secured.admin, "people", "get", ada.person.id)
    assert code == 0, err
    for shown in ("Ada", "churn", "60%", "spark"):
        assert shown in out
    code, out, _ = await maestro(secured, secured.admin, "people", "get", ada.person.id, "--json")
    profile = json.loads(out)
    assert profile["current_allocation"] == 0.6
    assert [m["project_name"] for m in profile["memberships"]] == ["churn"]
    code, _, err = await maestro(secured, secured.admin, "people", "get", "not-a-uuid")
    assert code == 1
    assert "INVALID_ARGUMENT" in err

    # Ada follows churn; Cy comments on it: Ada's feed shows it, unread.
    await collab(secured).Follow(
        cs.FollowRequest(target=cs.FollowTarget(kind=cs.SUBJECT_KIND_PROJECT, subject_id=churn)),
        metadata=ada.md,
    )
    cy = await someone(secured, "cy", "writer")
    await collab(secured).CreateComment(
        cs.CreateCommentRequest(
            comment=cs.Comment(subject_kind=cs.SUBJECT_KIND_PROJECT, subject_id=churn, body="hi")
        ),
        metadata=cy.md,
    )
    code, out, err = await maestro(secured, ada.secret, "feed")
    assert code == 0, err
    assert "1 events, 1 unread" in out
    assert "comment" in out
    code, out, err = await maestro(secured, ada.secret, "feed", "--unread", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["unread_count"] == 1
    assert [e["kind"] for e in shown["events"]] == ["ACTIVITY_KIND_COMMENT"]
    # The admin's bootstrap token names no person: the server says so.
    code, _, err = await maestro(secured, secured.admin, "feed")
    assert code == 1
    assert "FAILED_PRECONDITION" in err
    code, _, err = await maestro(secured, ada.secret, "feed", "--limit", "0")
    assert code == 2
