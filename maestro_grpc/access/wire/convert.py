"""AccessService messages <-> Access records, with the requests' validation."""

from __future__ import annotations

import re
import uuid

from maestro.access.v1 import access_service_pb2 as pb
from maestro_grpc.access.model import AuditEvent, AuditQuery, Role, Token, TokenFields
from maestro_grpc.errors import Violations
from maestro_grpc.wire.protoconv import opt_time, optional_uuid_field, set_timestamp

MAX_NAME = 100
MAX_PROJECTS = 100
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")

ROLES = {
    pb.ROLE_READER: Role.READER,
    pb.ROLE_WRITER: Role.WRITER,
    pb.ROLE_AGENT: Role.AGENT,
    pb.ROLE_ADMIN: Role.ADMIN,
}
ROLE_PROTO = {role: number for number, role in ROLES.items()}


def token_to_proto(token: Token) -> pb.Token:
    out = pb.Token(
        id="" if token.id is None else str(token.id),
        name=token.name,
        role=ROLE_PROTO[token.role],
        project_ids=sorted(str(p) for p in token.project_ids or ()),
        secret_prefix=token.secret_prefix,
        creator=token.creator,
        static=token.static,
        person_id=str(token.person_id or ""),
    )
    set_timestamp(out.create_time, token.create_time)
    set_timestamp(out.expire_time, token.expire_time)
    set_timestamp(out.revoke_time, token.revoke_time)
    set_timestamp(out.last_use_time, token.last_use_time)
    return out


def event_to_proto(event: AuditEvent) -> pb.AuditEvent:
    out = pb.AuditEvent(
        id=str(event.id),
        token_id="" if event.token_id is None else str(event.token_id),
        token_name=event.token_name,
        method=event.method,
        resources=list(event.resources),
        project_ids=[str(p) for p in event.project_ids],
        request_id=event.request_id,
        code=event.code,
        peer=event.peer,
        detail=event.detail,
    )
    set_timestamp(out.time, event.time)
    return out


def token_fields(v: Violations, request: pb.CreateTokenRequest) -> TokenFields:
    name = request.name.strip()
    if not name:
        v.add("name", "is required")
    elif len(name) > MAX_NAME:
        v.add("name", f"is longer than {MAX_NAME} characters")
    elif not name.isprintable():
        v.add("name", "must be printable characters")
    role = ROLES.get(request.role)
    if role is None:
        v.add("role", "is required (one of ROLE_READER, ROLE_WRITER, ROLE_AGENT, ROLE_ADMIN)")
    projects: set[uuid.UUID] = set()
    if len(request.project_ids) > MAX_PROJECTS:
        v.add("project_ids", f"has more than {MAX_PROJECTS} projects")
    else:
        for i, value in enumerate(request.project_ids):
            parsed = optional_uuid_field(v, value, f"project_ids[{i}]")
            if parsed is None and not value:
                v.add(f"project_ids[{i}]", "is empty")
            elif parsed is not None:
                projects.add(parsed)
    if role is Role.ADMIN and request.project_ids:
        v.add("project_ids", "must be empty for an admin token: an admin acts on every project")
    if request.request_id and not REQUEST_ID.match(request.request_id):
        v.add("request_id", "must be 1-100 characters of [A-Za-z0-9._:-]")
    return TokenFields(
        name=name,
        role=role or Role.READER,
        project_ids=frozenset(projects) if request.project_ids else None,
        expire_time=v.take(lambda: opt_time(request, "expire_time", "expire_time"), None),
        person_id=optional_uuid_field(v, request.person_id, "person_id"),
    )


def audit_query(v: Violations, request: pb.ListAuditEventsRequest) -> AuditQuery:
    query = AuditQuery(
        token_id=optional_uuid_field(v, request.token_id, "token_id"),
        project_id=optional_uuid_field(v, request.project_id, "project_id"),
        method=request.method,
        start_time=v.take(lambda: opt_time(request, "start_time", "start_time"), None),
        end_time=v.take(lambda: opt_time(request, "end_time", "end_time"), None),
    )
    if len(request.method) > 200 or "\x00" in request.method:
        v.add("method", "must be a method name of at most 200 characters")
    if query.start_time and query.end_time and query.end_time <= query.start_time:
        v.add("end_time", "must be after start_time")
    return query
