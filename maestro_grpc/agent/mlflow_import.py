"""MLflow import: an experiment's runs as ExperimentRun events and metric points.

Each run becomes one ExperimentRun (params, final metric values, status,
times; natural key run_id, so a run that finished since the last import
replaces its running state). Each logged metric value becomes a point with
labels `run_id` and `experiment_id` (one series per run and metric), source
MLFLOW, at the time MLflow logged it:

- names: `mlflow.<key>` when the key already is a valid name (lower case,
  [a-z0-9_.:-], short enough); any other key (`Val Loss`, `val loss`) is
  lower-cased with other characters as `_` and gets `:` and 10 hex digits of
  its sha256, and the original key as the label `key`: two keys never share
  a series, whatever their case or spacing;
- times: values are ordered by (time, step); each is sent at its logged time,
  or 1 microsecond after the previous value when that is later (values logged
  in one millisecond, even thousands in one `log_batch`, stay distinct points
  in step order: the stores keep microseconds);
- the same (name, time, labels) sent again replaces the value, so re-imports
  never double a point. Non-finite values (MLflow accepts NaN) are skipped and
  counted.

Incremental: the state dir keeps, per experiment, a fingerprint of each run
(status, end time, each metric's latest value, step and time, the params);
runs whose fingerprint has not changed are not sent again, and a new value
equal to the latest one but at a later step is a change.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import timestamp_pb2

from maestro.metrics.v1 import metric_pb2, process_event_pb2

RUN_STATUSES = {
    "RUNNING": process_event_pb2.EXPERIMENT_RUN_STATUS_RUNNING,
    "FINISHED": process_event_pb2.EXPERIMENT_RUN_STATUS_FINISHED,
    "FAILED": process_event_pb2.EXPERIMENT_RUN_STATUS_FAILED,
    "KILLED": process_event_pb2.EXPERIMENT_RUN_STATUS_KILLED,
    "SCHEDULED": process_event_pb2.EXPERIMENT_RUN_STATUS_SCHEDULED,
}
_NAME_CHARS = re.compile(r"[^a-z0-9_.:-]")


class MlflowImportError(RuntimeError):
    """The experiment cannot be found or read."""


MAX_NAME = 200
_VALID_KEY = re.compile(r"^[a-z0-9_.:-]+$")


def metric_name(key: str) -> tuple[str, bool]:
    """The series name of an MLflow metric key, and whether it is not the key
    itself (then the key goes in a label). Injective: see the module docstring."""
    plain = "mlflow." + key
    if _VALID_KEY.match(key) and len(plain) <= MAX_NAME:
        return plain, False
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    stem = "mlflow." + _NAME_CHARS.sub("_", key.lower())
    return f"{stem[: MAX_NAME - 11]}:{digest}", True


def point_times(history: list[Any]) -> list[tuple[Any, timestamp_pb2.Timestamp]]:
    """Each logged value with the time it is sent at: in (time, step) order,
    its own time or 1 microsecond after the previous one, whichever is later."""
    ordered = sorted(history, key=lambda m: (int(m.timestamp), int(m.step)))
    timed = []
    previous = -1
    for measurement in ordered:
        micros = max(int(measurement.timestamp) * 1000, previous + 1)
        previous = micros
        seconds, rest = divmod(micros, 1_000_000)
        timed.append((measurement, timestamp_pb2.Timestamp(seconds=seconds, nanos=rest * 1000)))
    return timed


def _ts_ms(millis: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=millis // 1000, nanos=(millis % 1000) * 1_000_000)


@dataclass
class MlflowImport:
    """What one import found (the `--json` summary's `collected`)."""

    experiment_id: str = ""
    experiment_name: str = ""
    runs: int = 0
    runs_sent: int = 0
    runs_unchanged: int = 0
    points: int = 0
    skipped_non_finite: int = 0

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


class MlflowCursor:
    """Fingerprints of the runs already sent, per experiment, in the state dir."""

    def __init__(self, state_dir: Path, project_id: str, tracking_uri: str, experiment_id: str):
        key = hashlib.sha256(f"{project_id}\0{tracking_uri}\0{experiment_id}".encode())
        self.path = state_dir / "cursors" / f"mlflow-{key.hexdigest()[:24]}.json"

    def load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def save(self, fingerprints: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(fingerprints))
        os.replace(tmp, self.path)


def _fingerprint(run: Any) -> str:
    data = run.data
    # The latest value of each metric with its step and time: a new value
    # equal to the last one, logged at a later step, changes the run.
    metrics = sorted((m.key, repr(m.value), m.step, m.timestamp) for m in data.to_proto().metrics)
    return hashlib.sha256(
        json.dumps(
            [
                run.info.status,
                run.info.end_time,
                metrics,
                sorted(data.params.items()),
            ]
        ).encode()
    ).hexdigest()[:32]


def find_experiment(client: Any, experiment: str) -> Any:
    found = client.get_experiment_by_name(experiment)
    if found is not None:
        return found
    try:
        return client.get_experiment(experiment)
    except Exception as error:  # MlflowException for an unknown id
        raise MlflowImportError(
            f"no MLflow experiment named or numbered {experiment!r} ({error})"
        ) from None


def import_experiment(
    *,
    tracking_uri: str,
    experiment: str,
    project_id: str,
    state_dir: Path,
    emit_event: Callable[[process_event_pb2.ProcessEvent], None],
    emit_point: Callable[[metric_pb2.MetricPoint], None],
    full: bool = False,
) -> tuple[MlflowImport, Callable[[], None]]:
    """Emit the experiment's new and changed runs; returns the summary and a
    function that saves the cursor (call it once everything is spooled)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri or None)
    found = find_experiment(client, experiment)
    summary = MlflowImport(experiment_id=found.experiment_id, experiment_name=found.name)
    cursor = MlflowCursor(state_dir, project_id, tracking_uri, found.experiment_id)
    previous = {} if full else cursor.load()
    fingerprints = dict(previous)
    token = None
    while True:
        page = client.search_runs(
            [found.experiment_id], max_results=1000, page_token=token, order_by=["start_time ASC"]
        )
        for run in page:
            summary.runs += 1
            fingerprint = _fingerprint(run)
            if previous.get(run.info.run_id) == fingerprint:
                summary.runs_unchanged += 1
                continue
            _emit_run(client, run, project_id, found.experiment_id, emit_event, emit_point, summary)
            fingerprints[run.info.run_id] = fingerprint
            summary.runs_sent += 1
        token = page.token
        if not token:
            break
    return summary, lambda: cursor.save(fingerprints)


def _emit_run(
    client: Any,
    run: Any,
    project_id: str,
    experiment_id: str,
    emit_event: Callable[[process_event_pb2.ProcessEvent], None],
    emit_point: Callable[[metric_pb2.MetricPoint], None],
    summary: MlflowImport,
) -> None:
    info, data = run.info, run.data
    finals = {k: float(v) for k, v in data.metrics.items() if math.isfinite(float(v))}
    experiment_run = process_event_pb2.ExperimentRun(
        run_id=info.run_id,
        experiment_id=experiment_id,
        run_name=info.run_name or "",
        status=RUN_STATUSES.get(info.status, process_event_pb2.EXPERIMENT_RUN_STATUS_UNSPECIFIED),
        start_time=_ts_ms(int(info.start_time or 0)),
        params=dict(data.params),
        metrics=finals,
    )
    if info.end_time:
        experiment_run.end_time.CopyFrom(_ts_ms(int(info.end_time)))
    emit_event(process_event_pb2.ProcessEvent(project_id=project_id, experiment_run=experiment_run))
    labels = {"run_id": info.run_id, "experiment_id": experiment_id}
    for key in sorted(data.metrics):
        name, lossy = metric_name(key)
        point_labels = {**labels, "key": key} if lossy else labels
        for measurement, time in point_times(client.get_metric_history(info.run_id, key)):
            value = float(measurement.value)
            if not math.isfinite(value):
                summary.skipped_non_finite += 1
                continue
            emit_point(
                metric_pb2.MetricPoint(
                    project_id=project_id,
                    name=name,
                    value=value,
                    time=time,
                    labels=point_labels,
                    source=metric_pb2.METRIC_SOURCE_MLFLOW,
                )
            )
            summary.points += 1
