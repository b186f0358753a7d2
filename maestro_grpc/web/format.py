"""How values from the protos read on a page: enum names, times, sizes, numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from jinja2 import Environment

from maestro.registry.v1 import artifact_pb2


def enum_label(enum: Any, value: int, prefix: str) -> str:
    """`ARTIFACT_TYPE_FEATURE_PIPELINE` reads "feature pipeline"."""
    try:
        name: str = enum.Name(value)
    except ValueError:
        return str(value)
    return name.removeprefix(prefix).replace("_", " ").lower()


def artifact_type(value: int) -> str:
    return enum_label(artifact_pb2.ArtifactType, value, "ARTIFACT_TYPE_")


def outcome(value: int) -> str:
    return enum_label(artifact_pb2.UsageOutcome, value, "USAGE_OUTCOME_")


def when(stamp: Timestamp | None) -> str:
    """A time as `2025-01-31 12:00 UTC`; empty when not set."""
    if stamp is None or (stamp.seconds == 0 and stamp.nanos == 0):
        return ""
    return stamp.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(stamp: Timestamp | None) -> str:
    if stamp is None or (stamp.seconds == 0 and stamp.nanos == 0):
        return ""
    return stamp.ToDatetime(tzinfo=UTC).isoformat()


def size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


def duration(value: Duration | None) -> str:
    """A DORA duration as a person reads it: `3.5 h`, `2.0 days`; "no data" when unset."""
    if value is None or (value.seconds == 0 and value.nanos == 0):
        return "no data"
    seconds = value.ToTimedelta().total_seconds()
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86_400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"


def score(value: float) -> str:
    return f"{value:.1f}"


def now_year() -> int:
    return datetime.now(UTC).year


def install(environment: Environment) -> None:
    environment.globals["duration"] = duration
    environment.filters.update(
        artifact_type=artifact_type, outcome=outcome, when=when, iso=iso, size=size, score=score
    )
