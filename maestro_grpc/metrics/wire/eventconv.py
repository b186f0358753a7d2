"""ProcessEvent (proto) <-> EventIn (record): natural keys, state ranks, JSON payloads.

Each kind of event has a natural key (a commit: repo and sha) and a rank
for its states (a pipeline run: queued 1 < running 2 < finished 3), so the
store can keep one row per event and let only a later state replace it.
The payload is every field of the kind's message as JSON values: times as
ISO 8601 UTC strings (None when unset), durations as seconds, enums as
lower-case names without their prefix ("succeeded").
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from google.protobuf import timestamp_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.json_format import ParseDict
from google.protobuf.message import Message

from maestro.metrics.v1 import process_event_pb2 as pe
from maestro_grpc.metrics.model import EventIn, EventType, Rejected, natural_key

SHA_RE = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
MAX_KEY_PART = 300
MAX_LIST = 1000
MAX_TEXT = 500
NO_PROJECT = uuid.UUID(int=0)
MIN_TIME = datetime(1970, 1, 1, tzinfo=UTC)

KIND_TYPE = {
    "commit": EventType.COMMIT,
    "pull_request": EventType.PULL_REQUEST,
    "pipeline_run": EventType.PIPELINE_RUN,
    "test_report": EventType.TEST_REPORT,
    "deployment": EventType.DEPLOYMENT,
    "incident": EventType.INCIDENT,
    "experiment_run": EventType.EXPERIMENT_RUN,
    "branch_head": EventType.BRANCH_HEAD,
}
TYPE_KIND = {v: k for k, v in KIND_TYPE.items()}
EVENT_TYPE_PROTO = {t: pe.EventType.Value("EVENT_TYPE_" + t.name) for t in EventType}
PROTO_EVENT_TYPE = {v: k for k, v in EVENT_TYPE_PROTO.items()}

PIPELINE_RANK = {
    "queued": 1,
    "running": 2,
    "succeeded": 3,
    "failed": 3,
    "cancelled": 3,
    "skipped": 3,
}
PR_RANK = {"open": 1, "closed": 2, "merged": 3}
DEPLOYMENT_RANK = {"in_progress": 1, "succeeded": 2, "failed": 2, "rolled_back": 3}
EXPERIMENT_RANK = {"": 0, "scheduled": 1, "running": 2, "finished": 3, "failed": 3, "killed": 3}


class _Bad(Exception):
    def __init__(self, field: str, description: str) -> None:
        self.field = field
        self.description = description


def _enum_prefix(descriptor: Any) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", descriptor.name).upper() + "_"


def enum_short(descriptor: Any, number: int) -> str:
    """PIPELINE_STATUS_SUCCEEDED -> "succeeded"; UNSPECIFIED (or unknown) -> ""."""
    value = descriptor.values_by_number.get(number)
    if value is None:
        return ""
    short = value.name.removeprefix(_enum_prefix(descriptor)).lower()
    return "" if short == "unspecified" else short


def _time_text(ts: timestamp_pb2.Timestamp) -> str:
    return ts.ToJsonString()


def message_payload(message: Message) -> dict[str, Any]:
    """Every field of `message` as JSON values (see the module docstring)."""
    return {name: read(message) for name, read in _plan(message.DESCRIPTOR)}


# Per message type, how to read each field as JSON: made once, not per event.
_Reader = Callable[[Message], Any]
_PLANS: dict[str, list[tuple[str, _Reader]]] = {}


def _plan(descriptor: Any) -> list[tuple[str, _Reader]]:
    plan = _PLANS.get(descriptor.full_name)
    if plan is None:
        plan = _PLANS[descriptor.full_name] = [(fd.name, _reader(fd)) for fd in descriptor.fields]
    return plan


def _converter(fd: Any) -> Callable[[Any], Any] | None:
    """How one value of the field becomes JSON; None: it already is."""
    if fd.type == FieldDescriptor.TYPE_ENUM:
        names = {v.number: enum_short(fd.enum_type, v.number) for v in fd.enum_type.values}
        return lambda number: names.get(number, "")
    if fd.type != FieldDescriptor.TYPE_MESSAGE:
        return None
    if fd.message_type.full_name == "google.protobuf.Timestamp":
        return _time_text
    if fd.message_type.full_name == "google.protobuf.Duration":
        return lambda d: d.seconds + d.nanos / 1e9
    return message_payload


def _reader(fd: Any) -> _Reader:
    name = fd.name
    if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
        value_of = _converter(fd.message_type.fields_by_name["value"]) or (lambda v: v)
        return lambda m: {k: value_of(v) for k, v in sorted(getattr(m, name).items())}
    convert = _converter(fd)
    if fd.is_repeated:
        if convert is None:
            return lambda m: list(getattr(m, name))
        return lambda m: [convert(v) for v in getattr(m, name)]
    if fd.type == FieldDescriptor.TYPE_MESSAGE:
        assert convert is not None
        return lambda m: convert(getattr(m, name)) if m.HasField(name) else None
    if convert is None:
        return lambda m: getattr(m, name)
    return lambda m: convert(getattr(m, name))


def _time(
    owner: Message, name: str, at: str, max_time: datetime, required: bool
) -> datetime | None:
    if not owner.HasField(name):
        if required:
            raise _Bad(f"{at}.{name}", "is required")
        return None
    ts = getattr(owner, name)
    if not 0 <= ts.nanos < 1_000_000_000:
        raise _Bad(f"{at}.{name}", "nanos must be in [0, 1e9)")
    try:
        value: datetime = ts.ToDatetime(tzinfo=UTC)
    except (OverflowError, ValueError, OSError):
        raise _Bad(f"{at}.{name}", "is out of range") from None
    if value <= MIN_TIME:
        raise _Bad(f"{at}.{name}", "must be after 1970-01-01T00:00:00Z")
    if value > max_time:
        raise _Bad(f"{at}.{name}", "is more than 1 hour in the future")
    return value


def _text(value: str, field: str, *, required: bool = True, limit: int = MAX_KEY_PART) -> str:
    value = value.strip()
    if required and not value:
        raise _Bad(field, "is required")
    if len(value) > limit:
        raise _Bad(field, f"must be at most {limit} characters")
    if "\x00" in value:  # PostgreSQL cannot store it; both stores refuse it alike
        raise _Bad(field, "must not contain NUL characters")
    return value


def _sha(value: str, field: str, *, required: bool) -> str:
    value = value.strip().lower()
    if not value:
        if required:
            raise _Bad(field, "is required")
        return ""
    if SHA_RE.fullmatch(value) is None:
        raise _Bad(field, "must be 40 or 64 hexadecimal digits")
    return value


def _non_negative(field: str, **values: int) -> None:
    for name, value in values.items():
        if value < 0:
            raise _Bad(f"{field}.{name}", "must not be negative")


def _not_before(end: datetime | None, start: datetime | None, field: str, start_name: str) -> None:
    if end is not None and start is not None and end < start:
        raise _Bad(field, f"must not be before {start_name}")


key = natural_key  # what the tests and the migrations name it


def event_from_proto(event: pe.ProcessEvent, at: str, max_time: datetime) -> EventIn | Rejected:
    """Validate and convert one event (project_id is checked by the caller)."""
    kind = event.WhichOneof("kind")
    if kind is None:
        return Rejected(f"{at}.kind", "exactly one kind of event is required")
    try:
        return _convert(kind, getattr(event, kind), f"{at}.{kind}", max_time)
    except _Bad as bad:
        return Rejected(bad.field, bad.description)


@dataclass(frozen=True)
class _Parsed:
    """What one kind's checks find: the natural key, main time, state and reference."""

    natural: str
    time: datetime
    ref: str = ""
    status: str = ""
    rank: int = 0
    end_time: datetime | None = None


def _required_time(owner: Message, name: str, at: str, max_time: datetime) -> datetime:
    value = _time(owner, name, at, max_time, True)
    assert value is not None
    return value


def _status(descriptor: Any, number: int, field: str) -> str:
    status = enum_short(descriptor, number)
    if not status:
        raise _Bad(field, "is required")
    return status


def _commit(m: Any, at: str, max_time: datetime) -> _Parsed:
    repo = _text(m.repo, f"{at}.repo")
    sha = _sha(m.sha, f"{at}.sha", required=True)
    time = _required_time(m, "author_time", at, max_time)
    _time(m, "commit_time", at, max_time, False)
    _non_negative(at, additions=m.additions, deletions=m.deletions, files_changed=m.files_changed)
    for i, parent in enumerate(m.parent_shas):
        _sha(parent, f"{at}.parent_shas[{i}]", required=True)
    if len(m.files) > MAX_LIST:
        del m.files[MAX_LIST:]
    if len(m.summary) > MAX_TEXT:
        m.summary = m.summary[:MAX_TEXT]
    return _Parsed(natural=key(repo, sha), time=time, ref=sha)


def _pull_request(m: Any, at: str, max_time: datetime) -> _Parsed:
    repo = _text(m.repo, f"{at}.repo")
    if m.number <= 0:
        raise _Bad(f"{at}.number", "must be positive")
    status = _status(pe.PullRequestState.DESCRIPTOR, m.state, f"{at}.state")
    opened = _time(m, "open_time", at, max_time, False)
    _time(m, "first_commit_time", at, max_time, False)
    merged = _time(m, "merge_time", at, max_time, status == "merged")
    closed = _time(m, "close_time", at, max_time, False)
    _not_before(merged, opened, f"{at}.merge_time", "open_time")
    _not_before(closed, opened, f"{at}.close_time", "open_time")
    main = opened or merged or closed
    if main is None:
        raise _Bad(f"{at}.open_time", "is required (or merge_time or close_time)")
    ref = _sha(m.merge_commit_sha, f"{at}.merge_commit_sha", required=False)
    for i, sha in enumerate(m.commit_shas):
        _sha(sha, f"{at}.commit_shas[{i}]", required=True)
    if m.review_count < 0:
        raise _Bad(f"{at}.review_count", "must not be negative")
    # A number merged twice (histories joined into one repository reuse
    # numbers) is two pull requests: the merge commit is part of the key.
    natural = key(repo, m.number, ref) if status == "merged" and ref else key(repo, m.number)
    return _Parsed(
        natural=natural,
        time=main,
        ref=ref,
        status=status,
        rank=PR_RANK[status],
        end_time=merged if status == "merged" else closed if status == "closed" else None,
    )


def _pipeline_run(m: Any, at: str, max_time: datetime) -> _Parsed:
    provider = _text(m.provider, f"{at}.provider")
    run_id = _text(m.run_id, f"{at}.run_id")
    if m.attempt < 0:
        raise _Bad(f"{at}.attempt", "must not be negative")
    status = _status(pe.PipelineStatus.DESCRIPTOR, m.status, f"{at}.status")
    time = _required_time(m, "start_time", at, max_time)
    end_time = _time(m, "end_time", at, max_time, False)
    _not_before(end_time, time, f"{at}.end_time", "start_time")
    for i, stage in enumerate(m.stages):
        _time(stage, "start_time", f"{at}.stages[{i}]", max_time, False)
        _time(stage, "end_time", f"{at}.stages[{i}]", max_time, False)
    ref = _sha(m.commit_sha, f"{at}.commit_sha", required=False)
    m.attempt = m.attempt or 1
    return _Parsed(
        natural=key(provider, run_id, m.attempt),
        time=time,
        ref=ref,
        status=status,
        rank=PIPELINE_RANK[status],
        end_time=end_time,
    )


def _test_report(m: Any, at: str, max_time: datetime) -> _Parsed:
    suite = _text(m.suite, f"{at}.suite")
    job = _text(m.job, f"{at}.job", required=False)
    _text(m.provider, f"{at}.provider", required=False)
    _text(m.run_id, f"{at}.run_id", required=False)
    if m.attempt < 0:
        raise _Bad(f"{at}.attempt", "must not be negative")
    _non_negative(
        at, passed=m.passed, failed=m.failed, errored=m.errored, skipped=m.skipped, flaky=m.flaky
    )
    if m.flaky > m.passed:
        raise _Bad(f"{at}.flaky", "must not exceed passed (a flaky test passed)")
    if m.duration.seconds < 0 or m.duration.nanos < 0:
        raise _Bad(f"{at}.duration", "must not be negative")
    time = _required_time(m, "time", at, max_time)
    m.attempt = m.attempt or 1
    if len(m.failing_tests) > MAX_LIST:
        del m.failing_tests[MAX_LIST:]
    parts: list[object] = [m.provider.strip(), m.run_id.strip(), m.attempt, suite]
    # Matrix jobs run the same suites in one run: the job is part of the key
    # (only when set, so the reports stored before it keep theirs).
    return _Parsed(natural=key(*parts, job) if job else key(*parts), time=time)


def _deployment(m: Any, at: str, max_time: datetime) -> _Parsed:
    deployment_id = _text(m.deployment_id, f"{at}.deployment_id")
    _text(m.environment, f"{at}.environment")
    status = _status(pe.DeploymentStatus.DESCRIPTOR, m.status, f"{at}.status")
    time = _required_time(m, "deploy_time", at, max_time)
    for i, sha in enumerate(m.commit_shas):
        _sha(sha, f"{at}.commit_shas[{i}]", required=True)
    return _Parsed(
        natural=key(deployment_id),
        time=time,
        ref=deployment_id[:100],
        status=status,
        rank=DEPLOYMENT_RANK[status],
    )


def _incident(m: Any, at: str, max_time: datetime) -> _Parsed:
    incident_id = _text(m.incident_id, f"{at}.incident_id")
    time = _required_time(m, "open_time", at, max_time)
    end_time = _time(m, "resolve_time", at, max_time, False)
    _not_before(end_time, time, f"{at}.resolve_time", "open_time")
    cause = _text(m.caused_by_deployment_id, f"{at}.caused_by_deployment_id", required=False)
    if not m.environment.strip():
        m.environment = "production"
    resolved = end_time is not None
    return _Parsed(
        natural=key(incident_id),
        time=time,
        ref=cause[:100],
        status="resolved" if resolved else "open",
        rank=2 if resolved else 1,
        end_time=end_time,
    )


def _experiment_run(m: Any, at: str, max_time: datetime) -> _Parsed:
    run_id = _text(m.run_id, f"{at}.run_id")
    status = enum_short(pe.ExperimentRunStatus.DESCRIPTOR, m.status)
    time = _required_time(m, "start_time", at, max_time)
    end_time = _time(m, "end_time", at, max_time, False)
    _not_before(end_time, time, f"{at}.end_time", "start_time")
    for name, value in m.metrics.items():
        if not math.isfinite(value):
            raise _Bad(f"{at}.metrics[{name[:64]}]", "must be a finite number")
    return _Parsed(
        natural=key(run_id),
        time=time,
        status=status,
        rank=EXPERIMENT_RANK.get(status, 0),
        end_time=end_time,
    )


def _branch_head(m: Any, at: str, max_time: datetime) -> _Parsed:
    repo = _text(m.repo, f"{at}.repo")
    branch = _text(m.branch, f"{at}.branch")
    sha = _sha(m.sha, f"{at}.sha", required=True)
    time = _required_time(m, "commit_time", at, max_time)
    return _Parsed(natural=key(repo, branch), time=time, ref=sha)


_KINDS: dict[str, Callable[[Any, str, datetime], _Parsed]] = {
    "commit": _commit,
    "pull_request": _pull_request,
    "pipeline_run": _pipeline_run,
    "test_report": _test_report,
    "deployment": _deployment,
    "incident": _incident,
    "experiment_run": _experiment_run,
    "branch_head": _branch_head,
}


def _convert(kind: str, m: Any, at: str, max_time: datetime) -> EventIn:
    parsed = _KINDS[kind](m, at, max_time)
    if len(parsed.natural) > 600:
        raise _Bad(at, "its natural key is longer than 600 characters")
    payload = message_payload(m)
    text = _fast_json(payload) if _float_free(m.DESCRIPTOR) else canonical_json(payload)
    return EventIn(
        project_id=NO_PROJECT,
        type=KIND_TYPE[kind],
        natural_key=parsed.natural,
        ref=parsed.ref,
        status=parsed.status,
        state_rank=parsed.rank,
        time=parsed.time,
        end_time=parsed.end_time,
        payload=payload,
        digest=payload_digest(payload, text),
        payload_json=text,
        encoded=m.SerializeToString(),  # as validated: what the live feed sends
    )


def canonical_json(payload: dict[str, Any]) -> str:  # what the digest is of
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _fast_json(payload: dict[str, Any]) -> str:
    # canonical_json's text by orjson (10x faster); its floats' text differs
    # (1e-7, not 1e-07), so only for kinds without floats.
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode()


_FLOATS = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}


@functools.cache
def _float_free(descriptor: Any) -> bool:
    """Whether no field of the message (nor of those it holds) is a float or a Duration."""
    return descriptor.full_name != "google.protobuf.Duration" and all(
        fd.type not in _FLOATS and (fd.message_type is None or _float_free(fd.message_type))
        for fd in descriptor.fields
    )


def payload_digest(payload: dict[str, Any], text: str = "") -> str:
    """The digest of the payload's canonical text (`text`, when made already)."""
    return hashlib.sha256((text or canonical_json(payload)).encode()).hexdigest()[:32]


def event_to_proto(
    event_type: EventType, project_id: uuid.UUID, payload: dict[str, Any]
) -> pe.ProcessEvent:
    """A stored event back as a ProcessEvent (for the live feed)."""
    kind = TYPE_KIND[event_type]
    message = pe.ProcessEvent(project_id=str(project_id))
    target = getattr(message, kind)
    ParseDict(_to_json(target.DESCRIPTOR, payload), target)
    return message


def stored_event_to_proto(event: EventIn) -> pe.ProcessEvent:
    """A stored event as a ProcessEvent: from its decoded bytes, else its payload."""
    if not event.encoded:
        return event_to_proto(event.type, event.project_id, event.payload)
    message = pe.ProcessEvent(project_id=str(event.project_id))
    getattr(message, TYPE_KIND[event.type]).MergeFromString(event.encoded)
    return message


def _to_json(descriptor: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """Our payload form -> protobuf's JSON form (enum names, RFC 3339 times, durations)."""
    out: dict[str, Any] = {}
    for name, value in payload.items():
        fd = descriptor.fields_by_name.get(name)
        if fd is None or value is None:
            continue
        out[name] = _json_value(fd, value)
    return out


def _json_value(fd: Any, value: Any) -> Any:
    if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
        return value
    if fd.is_repeated:
        return [_json_scalar(fd, v) for v in value]
    return _json_scalar(fd, value)


def _json_scalar(fd: Any, value: Any) -> Any:
    if fd.type == FieldDescriptor.TYPE_ENUM:
        if not value:
            return 0
        return _enum_prefix(fd.enum_type) + str(value).upper()
    if fd.type == FieldDescriptor.TYPE_MESSAGE:
        if fd.message_type.full_name == "google.protobuf.Duration":
            return f"{float(value):.9f}s"
        if fd.message_type.full_name == "google.protobuf.Timestamp":
            return value
        return _to_json(fd.message_type, value)
    return value
