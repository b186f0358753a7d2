"""MLflow import: an experiment's runs as ExperimentRun events and metric points.

Each run becomes one ExperimentRun (params, final metric values, status,
times; natural key run_id, so a run that finished since the last import
replaces its running state). Each logged metric value becomes a point named
`mlflow.<key>` (lower-cased, other characters than [a-z0-9_.:-] as `_`)
with labels `run_id` and `experiment_id` (one series per run and metric),
at the time MLflow logged it (values logged in the same millisecond are
kept apart by a microsecond each, in step order), source MLFLOW; the same
(name, time, labels) sent again replaces the value, so re-imports never
double a point. Non-finite values (MLflow accepts
NaN) are skipped and counted.

Incremental: the state dir keeps, per experiment, a fingerprint of each run
(status, end time, latest metric values and their steps, number of params);
runs whose fingerprint has not changed are not sent again.
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


def metric_name(key: str) -> str:
    return ("mlflow." + _NAME_CHARS.sub("_", key.lower()))[:200]


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
    metrics = sorted((k, repr(v)) for k, v in data.metrics.items())
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
        name = metric_name(key)
        history = sorted(
            client.get_metric_history(info.run_id, key), key=lambda m: (m.timestamp, m.step)
        )
        previous_ms, same = -1, 0
        for measurement in history:
            value = float(measurement.value)
            millis = int(measurement.timestamp)
            same = same + 1 if millis == previous_ms else 0
            previous_ms = millis
            if not math.isfinite(value):
                summary.skipped_non_finite += 1
                continue
            time = _ts_ms(millis)
            # Steps logged in the same millisecond stay distinct points.
            time.nanos += min(same, 999) * 1000
            emit_point(
                metric_pb2.MetricPoint(
                    project_id=project_id,
                    name=name,
                    value=value,
                    time=time,
                    labels=labels,
                    source=metric_pb2.METRIC_SOURCE_MLFLOW,
                )
            )
            summary.points += 1
