"""The Metrics context's plain types: points in columnar form, process events, results.

What the wire, the domain and the store hand each other: nothing here knows
protobuf, gRPC or SQL. Points travel as numpy columns (one array per field,
series given by index into a small table) so that a batch of thousands of
points never becomes thousands of Python objects.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from maestro_grpc.audit import AuditScope
from maestro_grpc.clock import from_micros
from maestro_grpc.errors import Aborted, OutOfRange

# Metric sources, numbered as the proto's MetricSource (stored as that number).
SOURCE_MANUAL = 5
SOURCES = {1: "git", 2: "ci", 3: "mlflow", 4: "agent", 5: "manual"}
# The percentiles every summary carries (p50, p90, p95, p99).
PERCENTILES = (0.5, 0.9, 0.95, 0.99)
# Rollup granularities, as stored.
HOUR = "hour"
DAY = "day"


KEY_SEPARATOR = "\x1f"


def natural_key(*parts: object) -> str:
    """A process event's natural key: its parts joined by a separator no part may
    contain (the wire refuses it in names and ids)."""
    return KEY_SEPARATOR.join(str(p) for p in parts)


class EventType(enum.Enum):
    """The kinds of process event; the value is what the store and EventRecord.type hold."""

    COMMIT = "commit"
    PULL_REQUEST = "pull_request"
    PIPELINE_RUN = "pipeline_run"
    TEST_REPORT = "test_report"
    DEPLOYMENT = "deployment"
    INCIDENT = "incident"
    EXPERIMENT_RUN = "experiment_run"
    BRANCH_HEAD = "branch_head"


@dataclass(frozen=True)
class SeriesKey:
    """One metric series: a project's metric name with one label set."""

    project_id: uuid.UUID
    name: str
    # Canonical JSON of the labels (sorted keys, compact); "{}" when none.
    labels: str


@dataclass
class PointColumns:
    """Points as columns: point i belongs to series[series_index[i]].

    times are microseconds since the Unix epoch (UTC); sources are
    MetricSource numbers.
    """

    series: list[SeriesKey]
    series_index: npt.NDArray[np.int64]
    times: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    sources: npt.NDArray[np.int16]

    @classmethod
    def empty(cls) -> PointColumns:
        return cls(
            [],
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.float64),
            np.zeros(0, np.int16),
        )

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def project_ids(self) -> set[uuid.UUID]:
        return {s.project_id for s in self.series}

    @classmethod
    def concat(cls, parts: list[PointColumns]) -> PointColumns:
        """The parts' points one after the other (their series tables joined)."""
        if len(parts) == 1:
            return parts[0]
        offsets = np.cumsum([0] + [len(p.series) for p in parts[:-1]])
        return cls(
            [key for p in parts for key in p.series],
            np.concatenate(
                [np.zeros(0, np.int64)]
                + [p.series_index + o for p, o in zip(parts, offsets, strict=True)]
            ),
            np.concatenate([np.zeros(0, np.int64)] + [p.times for p in parts]),
            np.concatenate([np.zeros(0, np.float64)] + [p.values for p in parts]),
            np.concatenate([np.zeros(0, np.int16)] + [p.sources for p in parts]),
        )

    def subset(self, keep: npt.NDArray[np.intp]) -> PointColumns:
        """The points at `keep`, in that order."""
        return PointColumns(
            self.series,
            self.series_index[keep],
            self.times[keep],
            self.values[keep],
            self.sources[keep],
        )


@dataclass(frozen=True)
class FeedEntry:
    """One write on a project's live feed: its sequence there, and what it stored, encoded.

    Sequences count a project's writes from 1, without gaps, in commit
    order, the same for every replica; the payload is the wire's business
    (`metrics/wire/feed.py`).
    """

    project_id: uuid.UUID
    sequence: int
    payload: bytes


@dataclass(frozen=True)
class EventIn:
    """A validated process event, ready to store.

    `state_rank` orders the states of one event (a pipeline run: queued <
    running < finished); `payload` is the event's fields as JSON values
    (times as ISO 8601 strings, enums as lower-case names).
    """

    project_id: uuid.UUID
    type: EventType
    natural_key: str
    ref: str
    status: str
    state_rank: int
    time: datetime
    end_time: datetime | None
    payload: dict[str, Any]
    digest: str
    # Position in the request, for the live feed's order.
    index: int = 0
    # The payload as JSON text, and the event as the wire had it (opaque
    # here): made once when it is decoded, so neither is made again per row.
    payload_json: str = ""
    encoded: bytes = b""


@dataclass(frozen=True)
class Rejected:
    """A refused row: the path of the offending field, why, and why as a stable code."""

    field: str
    description: str
    # INVALID_ROW (malformed), PROJECT_NOT_FOUND, or PERMISSION_DENIED (the
    # caller's token may not write that project).
    reason: str = "INVALID_ROW"


@dataclass
class Batch:
    """What one write carries once validated: points, events, and the rows refused."""

    points: PointColumns = field(default_factory=PointColumns.empty)
    events: list[EventIn] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    # Rows the batch held before validation (points plus events).
    row_count: int = 0
    # Per project, the paths of the fields that named it (to refuse its rows
    # when the project does not exist).
    project_fields: dict[uuid.UUID, list[str]] = field(default_factory=dict)

    def without_projects(self, missing: set[uuid.UUID], why: str) -> None:
        """Refuse every row of the given projects (they do not exist)."""
        if not missing:
            return
        for project in sorted(missing, key=str):
            for path in self.project_fields.get(project, []):
                self.rejected.append(
                    Rejected(path, why.format(project=project), reason="PROJECT_NOT_FOUND")
                )
        points = self.points
        keep_series = np.array([s.project_id not in missing for s in points.series], dtype=bool)
        if len(points) and not keep_series.all():
            keep = keep_series[points.series_index]
            self.points = PointColumns(
                points.series,
                points.series_index[keep],
                points.times[keep],
                points.values[keep],
                points.sources[keep],
            )
        self.events = [e for e in self.events if e.project_id not in missing]

    def project_ids(self) -> set[uuid.UUID]:
        return self.points.project_ids() | {e.project_id for e in self.events}


@dataclass
class WriteResult:
    """What a write stored: counts, and the rows for the live feed."""

    stored_points: int = 0
    stored_events: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    points: PointColumns = field(default_factory=PointColumns.empty)
    events: list[EventIn] = field(default_factory=list)
    # The live feed's entries a lone write's transaction appended (a
    # group's are the group's, on none of its batches' results).
    feed: list[FeedEntry] = field(default_factory=list)


@dataclass(frozen=True)
class EventRecord:
    """A stored process event, as the read API returns it.

    type is the EventType value ("commit", "pull_request", "pipeline_run",
    "test_report", "deployment", "incident", "experiment_run"); time is the
    event's main time (a commit's author time, a pull request's open time, a
    pipeline run's or experiment run's start, a test report's time, a
    deployment's deploy time, an incident's open time); payload is the
    event's fields as JSON values: times are ISO 8601 strings in UTC, enums
    lower-case names ("succeeded"), durations seconds.
    """

    type: str
    time: datetime
    payload: dict[str, Any]


# ---- the write path -------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Window:
    """An aligned span [start, end) of one project's time, in microseconds (a rollup job)."""

    project_id: uuid.UUID
    unit: str
    start_us: int
    end_us: int

    @property
    def key(self) -> str:
        """The job key: the same window enqueued twice is one job."""
        return f"{self.project_id}:{self.unit}:{from_micros(self.start_us).isoformat()}"

    def payload(self) -> dict[str, object]:
        return {
            "project_id": str(self.project_id),
            "start_us": self.start_us,
            "end_us": self.end_us,
        }


@dataclass(frozen=True)
class StreamPosition:
    """Who writes a stream batch: the producer, its stream's epoch, the batch's sequence."""

    producer_id: str
    epoch: int
    sequence: int


@dataclass(frozen=True)
class Opened:
    """A producer's stream once opened: where it resumes, and its epoch."""

    committed_sequence: int
    epoch: int


class Duplicate(Exception):
    """The sequence was already committed: nothing to store, ack it again."""


def superseded(producer_id: str, epoch: int) -> Aborted:
    """The error that ends a stream whose producer opened a newer one."""
    return Aborted(
        f"a newer stream of producer {producer_id!r} (epoch {epoch}) took over; this one ends",
        reason="PRODUCER_SUPERSEDED",
        metadata={"producer_id": producer_id, "epoch": str(epoch)},
    )


def gap(sequence: int, expected: int) -> OutOfRange:
    """The error for a batch whose sequence skips ahead of the next one expected."""
    return OutOfRange(
        f"sequence {sequence} leaves a gap: the next sequence must be {expected}",
        reason="SEQUENCE_GAP",
        metadata={"expected_sequence": str(expected), "sequence": str(sequence)},
    )


def _no_ints() -> npt.NDArray[np.int64]:
    return np.zeros(0, np.int64)


@dataclass
class PointRows:
    """Points as the store keeps them: series ids, times (us), values, sources.

    Deduplicated and sorted by (series, time) before they reach the store.
    """

    series_ids: npt.NDArray[np.int64] = field(default_factory=_no_ints)
    times: npt.NDArray[np.int64] = field(default_factory=_no_ints)
    values: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0, np.float64))
    sources: npt.NDArray[np.int16] = field(default_factory=lambda: np.zeros(0, np.int16))

    def __len__(self) -> int:
        return int(self.times.shape[0])


@dataclass
class PreparedBatch:
    """A batch made ready to store (series resolved, points deduplicated and sorted)."""

    batch: Batch
    position: StreamPosition | None
    events: list[EventIn]
    # The audit scope of the call that sent it, when its write is audited
    # with it (RecordMetrics; a stream is audited once, when it opens).
    audit: AuditScope | None = None
    # The kept points as columns: what is written, and what the live feed shows.
    points: PointColumns = field(default_factory=PointColumns.empty)
    # The store's id of each series of `points.series` (-1: unused). Rows get
    # theirs when written, not held per point while in flight (memory).
    series_ids: npt.NDArray[np.int64] = field(default_factory=_no_ints)
    windows: list[Window] = field(default_factory=list)

    @property
    def rows(self) -> PointRows:
        """The kept points as the store writes them."""
        points = self.points
        if not len(points):
            return PointRows()
        return PointRows(
            self.series_ids[points.series_index], points.times, points.values, points.sources
        )


# ---- the read side ----------------------------------------------------------------------


@dataclass(frozen=True)
class RollupRow:
    """One stored rollup: a series' aggregate over one bucket, its sketch serialized."""

    series_id: int
    granularity: str
    bucket_start: datetime
    count: int
    sum: float
    m2: float
    min: float
    max: float
    first_time: datetime
    last_time: datetime
    last_value: float
    sketch: bytes


@dataclass(frozen=True)
class SummaryQuery:
    """What GetMetricSummary asks for, validated: which names, which window, grouped how."""

    project_id: uuid.UUID
    names: tuple[str, ...]
    name_prefix: str
    start: datetime | None
    end: datetime
    group_by_label: str


@dataclass(frozen=True)
class RawSummary:
    """Exact statistics of one (name, label value) group of raw points."""

    name: str
    group_value: str
    count: int
    mean: float
    m2: float
    min: float
    max: float
    first_time: datetime
    last_time: datetime
    last_value: float
    # At PERCENTILES, interpolated as PostgreSQL's percentile_cont.
    percentiles: tuple[float, float, float, float]


@dataclass(frozen=True)
class SeriesLabels:
    """A series' metric name and labels."""

    name: str
    labels: dict[str, str]


Arrays = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]


@dataclass(frozen=True)
class RepositoryHead:
    """A branch head an agent sent after the whole history before it (BranchHead)."""

    branch: str
    sha: str
    commit_time: datetime
    update_time: datetime


@dataclass(frozen=True)
class NameInfo:
    """A metric name of a project: how many points, the first and last time."""

    name: str
    count: int
    first_time: datetime
    last_time: datetime


@dataclass(frozen=True)
class TypeInfo:
    """An event type of a project: how many events, the first and last time."""

    type: EventType
    count: int
    first_time: datetime
    last_time: datetime


@dataclass(frozen=True)
class EventTimes:
    """A stored event's type, status and times (what velocity counts)."""

    type: str
    status: str
    time: datetime
    end_time: datetime | None


# ---- windowed totals, for other contexts (experiments) --------------------------------------


@dataclass(frozen=True)
class Windows:
    """Per-project windows as columns: [starts[i], end) for project_ids[i].

    With pre_days > 0 each also has a pre-period [starts[i] - pre_days, starts[i]).
    """

    project_ids: list[uuid.UUID]
    starts: list[datetime]
    end: datetime
    pre_days: int = 0

    def __len__(self) -> int:
        return len(self.project_ids)


@dataclass(frozen=True)
class WindowTotals:
    """Each window's points of one metric name, aligned with the windows: numpy columns.

    A window without points has zeros; `count` tells them apart.
    """

    count: npt.NDArray[np.int64]
    total: npt.NDArray[np.float64]
    last: npt.NDArray[np.float64]
    pre_count: npt.NDArray[np.int64]
    pre_total: npt.NDArray[np.float64]
    pre_last: npt.NDArray[np.float64]

    @classmethod
    def empty(cls, size: int) -> WindowTotals:
        """Zeros, each column its own array (filled in place by the store)."""
        counts = [np.zeros(size, dtype=np.int64) for _ in range(2)]
        sums = [np.zeros(size, dtype=np.float64) for _ in range(4)]
        return cls(counts[0], sums[0], sums[1], counts[1], sums[2], sums[3])
