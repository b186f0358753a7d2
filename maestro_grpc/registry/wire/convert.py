"""Registry records to and from their protobuf messages (parsing validates as it goes)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
from google.protobuf.message import Message

from maestro.registry.v1 import artifact_pb2, project_pb2
from maestro_grpc.errors import Violations
from maestro_grpc.registry.model import (
    Artifact,
    ArtifactFields,
    ArtifactType,
    ArtifactUsage,
    Project,
    ProjectFields,
    ProjectStatus,
    Reason,
    Recommendation,
    Success,
    TeamMember,
    TeamMemberFields,
    TeamRole,
    UsageOutcome,
)
from maestro_grpc.registry.wire import validation as check
from maestro_grpc.wire.protoconv import (
    duration_to_timedelta,
    enum_from_proto,
    enum_list_from_proto,
    enum_to_proto,
    opt_time,
    optional_uuid_field,
    set_timestamp,
    struct_to_dict,
)

STATUS = ("PROJECT_STATUS_", project_pb2.ProjectStatus)
ROLE = ("TEAM_ROLE_", project_pb2.TeamRole)
ARTIFACT_TYPE = ("ARTIFACT_TYPE_", artifact_pb2.ArtifactType)
OUTCOME = ("USAGE_OUTCOME_", artifact_pb2.UsageOutcome)

E = TypeVar("E", bound=enum.Enum)

_REASON_KIND = {
    Reason.SIMILAR: artifact_pb2.RECOMMENDATION_REASON_KIND_USED_BY_SIMILAR_PROJECTS,
    Reason.TAGS: artifact_pb2.RECOMMENDATION_REASON_KIND_MATCHING_TAGS,
    Reason.IMPACT: artifact_pb2.RECOMMENDATION_REASON_KIND_HIGH_IMPACT,
    Reason.CO_USED: artifact_pb2.RECOMMENDATION_REASON_KIND_CO_USED,
    Reason.REVIEWED: artifact_pb2.RECOMMENDATION_REASON_KIND_WELL_REVIEWED,
}

# ---- domain -> proto -----------------------------------------------------------


def team_member_to_proto(m: TeamMember) -> project_pb2.TeamMember:
    msg = project_pb2.TeamMember(
        id=str(m.id),
        project_id=str(m.project_id),
        person_id=m.person_id,
        display_name=m.display_name,
        role=enum_to_proto(ROLE[1], m.role, prefix=ROLE[0]),  # type: ignore[arg-type]
        years_experience=m.years_experience,
        skills=m.skills,
        allocation=m.allocation,
        directory_person_id=str(m.directory_person_id or ""),
    )
    set_timestamp(msg.join_time, m.join_time)
    set_timestamp(msg.leave_time, m.leave_time)
    return msg


def success_to_proto(s: Success) -> project_pb2.ProjectSuccess:
    msg = project_pb2.ProjectSuccess(
        succeeded=s.succeeded, business_impact=s.business_impact, notes=s.notes
    )
    if s.score is not None:
        msg.score = s.score
    if s.time_to_production is not None:
        msg.time_to_production.FromTimedelta(s.time_to_production)
    if s.metric_name is not None:
        msg.headline_metric.name = s.metric_name
        msg.headline_metric.value = s.metric_value or 0.0
    set_timestamp(msg.record_time, s.record_time)
    return msg


def project_to_proto(p: Project) -> project_pb2.Project:
    msg = project_pb2.Project(
        id=str(p.id),
        name=p.name,
        description=p.description,
        status=enum_to_proto(STATUS[1], p.status, prefix=STATUS[0]),  # type: ignore[arg-type]
        labels=p.labels,
        repo_url=p.repo_url,
        mlflow_experiment_id=p.mlflow_experiment_id,
        team=[team_member_to_proto(m) for m in p.team],
        etag=p.etag,
    )
    set_timestamp(msg.start_time, p.start_time)
    set_timestamp(msg.end_time, p.end_time)
    set_timestamp(msg.create_time, p.create_time)
    set_timestamp(msg.update_time, p.update_time)
    if p.success is not None:
        msg.success.CopyFrom(success_to_proto(p.success))
    return msg


def artifact_to_proto(a: Artifact) -> artifact_pb2.Artifact:
    msg = artifact_pb2.Artifact(
        id=str(a.id),
        name=a.name,
        version=a.version,
        type=enum_to_proto(ARTIFACT_TYPE[1], a.type, prefix=ARTIFACT_TYPE[0]),  # type: ignore[arg-type]
        description=a.description,
        tags=a.tags,
        origin_project_id=str(a.origin_project_id) if a.origin_project_id else "",
        creator=a.creator,
        content_sha256=a.content_sha256,
        size_bytes=a.size_bytes,
        storage_uri=a.storage_uri,
        usage_count=a.usage_count,
        impact_score=a.impact_score,
        review_average=round(a.review_average, 4),
        review_count=a.review_count,
    )
    if a.metadata:
        msg.metadata.update(a.metadata)
    set_timestamp(msg.create_time, a.create_time)
    set_timestamp(msg.update_time, a.update_time)
    set_timestamp(msg.delete_time, a.delete_time)
    return msg


def usage_to_proto(u: ArtifactUsage) -> artifact_pb2.ArtifactUsage:
    msg = artifact_pb2.ArtifactUsage(
        id=str(u.id),
        artifact_id=str(u.artifact_id),
        project_id=str(u.project_id),
        user=u.user,
        purpose=u.purpose,
        outcome=enum_to_proto(OUTCOME[1], u.outcome, prefix=OUTCOME[0]),  # type: ignore[arg-type]
    )
    set_timestamp(msg.use_time, u.use_time)
    set_timestamp(msg.create_time, u.create_time)
    if u.impact is not None:
        msg.impact.CopyFrom(
            artifact_pb2.UsageImpact(
                outcome_weight=u.impact.outcome_weight,
                project_factor=u.impact.project_factor,
                decay=u.impact.decay,
                contribution=u.impact.contribution,
                points=u.impact.points,
            )
        )
    return msg


def recommendation_to_proto(r: Recommendation) -> artifact_pb2.ArtifactRecommendation:
    return artifact_pb2.ArtifactRecommendation(
        artifact=artifact_to_proto(r.artifact),
        score=r.score,
        reasons=[
            artifact_pb2.RecommendationReason(kind=_REASON_KIND[kind], detail=detail, weight=weight)
            for kind, detail, weight in r.reasons
        ],
    )


# ---- proto -> records ------------------------------------------------------------
#
# Each parser returns the full set of fields and the names of those the
# message sets to a non-default value (the implied update mask, AIP-134).
# Every bad field is recorded in the Violations (and a stand-in returned).


def _time(v: Violations, msg: Message, name: str, field: str) -> datetime | None:
    return v.take(lambda: opt_time(msg, name, field), None)


def enum_field(
    v: Violations,
    domain: type[E],
    spec: tuple[str, EnumTypeWrapper],
    value: int,
    field: str,
    *,
    required: bool,
) -> E | None:
    """The domain enum of a proto enum field (None: UNSPECIFIED, where that is allowed)."""
    prefix, wrapper = spec
    return v.take(
        lambda: enum_from_proto(
            domain, wrapper, value, field, prefix=prefix, allow_unspecified=not required
        ),
        None,
    )


def enum_list(
    v: Violations,
    domain: type[E],
    spec: tuple[str, EnumTypeWrapper],
    values: Iterable[int],
    field: str,
) -> list[E]:
    """A repeated enum filter field, de-duplicated; UNSPECIFIED is refused."""
    prefix, wrapper = spec
    return v.take(lambda: enum_list_from_proto(domain, wrapper, values, field, prefix=prefix), [])


PROJECT_UPDATABLE = (
    "name",
    "description",
    "status",
    "labels",
    "repo_url",
    "mlflow_experiment_id",
    "start_time",
    "end_time",
)


def project_fields(
    v: Violations, msg: project_pb2.Project, prefix: str = "project"
) -> tuple[ProjectFields, set[str]]:
    fields = ProjectFields(
        name=check.text(v, msg.name, f"{prefix}.name", max_len=200, required=True),
        description=check.text(v, msg.description, f"{prefix}.description", max_len=10_000),
        labels=check.labels(v, dict(msg.labels), f"{prefix}.labels"),
        repo_url=check.url(v, msg.repo_url, f"{prefix}.repo_url"),
        mlflow_experiment_id=check.text(
            v, msg.mlflow_experiment_id, f"{prefix}.mlflow_experiment_id", max_len=200
        ),
        start_time=_time(v, msg, "start_time", f"{prefix}.start_time"),
        end_time=_time(v, msg, "end_time", f"{prefix}.end_time"),
    )
    status = enum_field(v, ProjectStatus, STATUS, msg.status, f"{prefix}.status", required=False)
    fields.status = status or ProjectStatus.PLANNED
    present = {
        name
        for name, is_set in (
            ("name", bool(msg.name)),
            ("description", bool(msg.description)),
            ("status", msg.status != 0),
            ("labels", bool(msg.labels)),
            ("repo_url", bool(msg.repo_url)),
            ("mlflow_experiment_id", bool(msg.mlflow_experiment_id)),
            ("start_time", msg.HasField("start_time")),
            ("end_time", msg.HasField("end_time")),
        )
        if is_set
    }
    return fields, present


def success_from_proto(v: Violations, msg: project_pb2.ProjectSuccess) -> Success:
    score = None
    if msg.HasField("score"):
        score = check.number(v, msg.score, "success.score", low=0.0, high=1.0)
    ttp = None
    if msg.HasField("time_to_production"):
        duration = msg.time_to_production
        ttp = v.take(lambda: duration_to_timedelta(duration, "success.time_to_production"), None)
    metric_name = metric_value = None
    if msg.HasField("headline_metric"):
        metric_name = check.text(
            v, msg.headline_metric.name, "success.headline_metric.name", max_len=200, required=True
        )
        metric_value = check.number(
            v,
            msg.headline_metric.value,
            "success.headline_metric.value",
            low=-1e300,
            high=1e300,
        )
    return Success(
        succeeded=msg.succeeded,
        score=score,
        time_to_production=ttp,
        metric_name=metric_name,
        metric_value=metric_value,
        business_impact=check.text(
            v, msg.business_impact, "success.business_impact", max_len=10_000
        ),
        notes=check.text(v, msg.notes, "success.notes", max_len=10_000),
    )


TEAM_MEMBER_UPDATABLE = (
    "display_name",
    "role",
    "years_experience",
    "skills",
    "allocation",
    "join_time",
    "leave_time",
)


def team_member_fields(
    v: Violations,
    msg: project_pb2.TeamMember,
    prefix: str = "team_member",
    *,
    require_role: bool = True,
) -> tuple[TeamMemberFields, set[str]]:
    role = enum_field(v, TeamRole, ROLE, msg.role, f"{prefix}.role", required=require_role)
    allocation = 1.0
    if msg.HasField("allocation"):
        allocation = check.number(
            v, msg.allocation, f"{prefix}.allocation", low=0.0, high=1.0, low_open=True
        )
    fields = TeamMemberFields(
        person_id=check.text(v, msg.person_id, f"{prefix}.person_id", max_len=200, required=True)
        if require_role
        else msg.person_id,
        display_name=check.text(v, msg.display_name, f"{prefix}.display_name", max_len=200),
        role=role or TeamRole.OTHER,
        years_experience=check.number(
            v, msg.years_experience, f"{prefix}.years_experience", low=0.0, high=70.0
        ),
        skills=check.skills(v, msg.skills, f"{prefix}.skills"),
        allocation=allocation,
        join_time=_time(v, msg, "join_time", f"{prefix}.join_time"),
        leave_time=_time(v, msg, "leave_time", f"{prefix}.leave_time"),
    )
    present = {
        name
        for name, is_set in (
            ("display_name", bool(msg.display_name)),
            ("role", msg.role != 0),
            ("years_experience", msg.years_experience != 0),
            ("skills", bool(msg.skills)),
            ("allocation", msg.HasField("allocation")),
            ("join_time", msg.HasField("join_time")),
            ("leave_time", msg.HasField("leave_time")),
        )
        if is_set
    }
    return fields, present


ARTIFACT_UPDATABLE = (
    "type",
    "description",
    "tags",
    "origin_project_id",
    "creator",
    "metadata",
    "content_sha256",
    "size_bytes",
    "storage_uri",
)


def artifact_fields(
    v: Violations, msg: artifact_pb2.Artifact, prefix: str = "artifact", *, creating: bool = True
) -> tuple[ArtifactFields, set[str]]:
    art_type = enum_field(
        v, ArtifactType, ARTIFACT_TYPE, msg.type, f"{prefix}.type", required=creating
    )
    metadata: dict[str, Any] = {}
    if msg.HasField("metadata"):
        at = f"{prefix}.metadata"
        metadata = check.metadata(v, v.take(lambda: struct_to_dict(msg.metadata, at), {}), at)
    if msg.size_bytes < 0:
        v.add(f"{prefix}.size_bytes", "must not be negative")
    fields = ArtifactFields(
        name=check.text(v, msg.name, f"{prefix}.name", max_len=200, required=True)
        if creating
        else msg.name,
        version=check.version(v, msg.version, f"{prefix}.version") if creating else msg.version,
        type=art_type or ArtifactType.OTHER,
        description=check.text(v, msg.description, f"{prefix}.description", max_len=10_000),
        tags=check.tags(v, msg.tags, f"{prefix}.tags"),
        origin_project_id=optional_uuid_field(
            v, msg.origin_project_id, f"{prefix}.origin_project_id"
        ),
        creator=check.text(v, msg.creator, f"{prefix}.creator", max_len=200),
        metadata=metadata,
        content_sha256=check.sha256(v, msg.content_sha256, f"{prefix}.content_sha256"),
        size_bytes=msg.size_bytes,
        storage_uri=check.storage_uri(v, msg.storage_uri, f"{prefix}.storage_uri"),
    )
    present = {
        name
        for name, is_set in (
            ("type", msg.type != 0),
            ("description", bool(msg.description)),
            ("tags", bool(msg.tags)),
            ("origin_project_id", bool(msg.origin_project_id)),
            ("creator", bool(msg.creator)),
            ("metadata", msg.HasField("metadata")),
            ("content_sha256", bool(msg.content_sha256)),
            ("size_bytes", msg.size_bytes != 0),
            ("storage_uri", bool(msg.storage_uri)),
        )
        if is_set
    }
    return fields, present


def outcome_from_proto(v: Violations, value: int, field: str) -> UsageOutcome:
    parsed = enum_field(v, UsageOutcome, OUTCOME, value, field, required=False)
    return parsed or UsageOutcome.UNKNOWN
