"""CollaborationService's protos <-> records, and the checks of its fields."""

from __future__ import annotations

import uuid

from maestro.people.v1 import collaboration_service_pb2 as pb
from maestro_grpc.errors import Violations
from maestro_grpc.people.model import Comment, CommentState, Event, Review, SubjectKind, Target
from maestro_grpc.wire import checks
from maestro_grpc.wire.protoconv import set_timestamp

MAX_BODY = 20_000

KINDS = {
    pb.SUBJECT_KIND_PROJECT: SubjectKind.PROJECT,
    pb.SUBJECT_KIND_ARTIFACT: SubjectKind.ARTIFACT,
    pb.SUBJECT_KIND_PERSON: SubjectKind.PERSON,
    pb.SUBJECT_KIND_TAG: SubjectKind.TAG,
}
KIND_OUT = {v: k for k, v in KINDS.items()}
STATES = {
    pb.COMMENT_STATE_VISIBLE: CommentState.VISIBLE,
    pb.COMMENT_STATE_HIDDEN: CommentState.HIDDEN,
    pb.COMMENT_STATE_DELETED: CommentState.DELETED,
}
STATE_OUT = {v: k for k, v in STATES.items()}
ACTIVITY = {
    "artifact_version": pb.ACTIVITY_KIND_ARTIFACT_VERSION,
    "project_status": pb.ACTIVITY_KIND_PROJECT_STATUS,
    "project_outcome": pb.ACTIVITY_KIND_PROJECT_OUTCOME,
    "team_change": pb.ACTIVITY_KIND_TEAM_CHANGE,
    "comment": pb.ACTIVITY_KIND_COMMENT,
    "reply": pb.ACTIVITY_KIND_REPLY,
    "mention": pb.ACTIVITY_KIND_MENTION,
    "usage": pb.ACTIVITY_KIND_USAGE,
    "review": pb.ACTIVITY_KIND_REVIEW,
    "prediction_moved": pb.ACTIVITY_KIND_PREDICTION_MOVED,
    "experiment_verdict": pb.ACTIVITY_KIND_EXPERIMENT_VERDICT,
}


def kind_field(
    v: Violations, value: int, field: str, *, comments_only: bool = False
) -> SubjectKind:
    kind: SubjectKind | None = KINDS.get(value)  # type: ignore[call-overload]
    allowed = (
        (SubjectKind.PROJECT, SubjectKind.ARTIFACT) if comments_only else tuple(KINDS.values())
    )
    if kind not in allowed:
        names = ", ".join(f"SUBJECT_KIND_{k.name}" for k in allowed)
        v.add(field, f"is required: one of {names}")
        return SubjectKind.PROJECT
    assert kind is not None
    return kind


def uuid_in(v: Violations, value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        v.add(field, "is required: a UUID" if not value else f"{value!r} is not a UUID")
        return uuid.UUID(int=0)


def subject_field(v: Violations, kind: SubjectKind, value: str, field: str) -> str:
    """A follow's subject: a UUID, or for a tag 1-100 characters (lower-cased)."""
    if kind is SubjectKind.TAG:
        tag = checks.skills(v, [value], field)
        if not value.strip():
            v.add(field, "is required")
        return tag[0] if tag else ""
    return str(uuid_in(v, value, field))


def body_field(v: Violations, value: str, field: str, *, required: bool = True) -> str:
    return checks.text(v, value, field, max_len=MAX_BODY, required=required)


def comment_to_proto(c: Comment) -> pb.Comment:
    gone = c.state is CommentState.DELETED
    msg = pb.Comment(
        id=str(c.id),
        subject_kind=KIND_OUT[c.subject_kind],
        subject_id=str(c.subject_id),
        parent_id=str(c.parent_id or ""),
        author_person_id=str(c.author_person_id),
        body="" if gone else c.body,
        mentioned_person_ids=[str(m) for m in c.mentioned],
        state=STATE_OUT[c.state],
        edits=[] if gone else [pb.CommentEdit(body=e.body) for e in c.edits],
    )
    for out, edit in zip(msg.edits, c.edits, strict=False):
        set_timestamp(out.edit_time, edit.edit_time)
    set_timestamp(msg.create_time, c.create_time)
    set_timestamp(msg.update_time, c.update_time)
    return msg


def review_to_proto(r: Review) -> pb.Review:
    msg = pb.Review(
        id=str(r.id),
        artifact_id=str(r.artifact_id),
        person_id=str(r.person_id),
        rating=r.rating,
        text=r.text,
    )
    set_timestamp(msg.create_time, r.create_time)
    set_timestamp(msg.update_time, r.update_time)
    return msg


def target_to_proto(t: Target) -> pb.FollowTarget:
    return pb.FollowTarget(kind=KIND_OUT[SubjectKind(t.kind)], subject_id=t.key)


def event_to_proto(e: Event) -> pb.ActivityEvent:
    msg = pb.ActivityEvent(
        sequence=e.seq,
        kind=ACTIVITY.get(e.kind, pb.ACTIVITY_KIND_UNSPECIFIED),
        summary=e.summary,
        project_id=str(e.project_id or ""),
        artifact_id=str(e.artifact_id or ""),
        comment_id=str(e.comment_id or ""),
        actor_person_id=str(e.actor_person_id or ""),
        read=e.read,
    )
    set_timestamp(msg.create_time, e.create_time)
    return msg
