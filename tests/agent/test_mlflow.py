"""`maestro agent mlflow` against a real MLflow tracking store made with the MLflow client."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maestro_grpc.agent.mlflow_import import metric_name, point_times
from tests.agent.live import LiveServer, agent, event_counts, event_payloads, point_counts

# "Val Accuracy" is no valid name: lower-cased, with a hash of the key (and the key as a label).
ACCURACY = metric_name("Val Accuracy")[0]


@pytest.fixture(scope="module")
def tracking_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow SQLite tracking store with one experiment: a finished run with
    a per-step history, a failed run, and a running one."""
    from mlflow.tracking import MlflowClient

    path = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    uri = f"sqlite:///{path}"
    client = MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment(
        "churn-model", artifact_location=str(path.parent / "artifacts")
    )
    finished = client.create_run(experiment, run_name="baseline")
    run_id = finished.info.run_id
    client.log_param(run_id, "learning_rate", "0.01")
    client.log_param(run_id, "max_depth", "6")
    for step in range(5):
        client.log_metric(
            run_id,
            "val_loss",
            1.0 / (step + 1),
            step=step,
            timestamp=1_700_000_000_000 + step * 1000,
        )
        client.log_metric(
            run_id,
            "Val Accuracy",
            0.5 + step / 10,
            step=step,
            timestamp=1_700_000_000_000 + step * 1000,
        )
    client.log_metric(run_id, "weird", float("nan"), step=0, timestamp=1_700_000_000_000)
    client.set_terminated(run_id, status="FINISHED")
    failed = client.create_run(experiment, run_name="too-deep")
    client.log_metric(failed.info.run_id, "val_loss", 9.0, step=0, timestamp=1_700_000_100_000)
    client.set_terminated(failed.info.run_id, status="FAILED")
    running = client.create_run(experiment, run_name="tuning")
    client.log_metric(running.info.run_id, "val_loss", 0.9, step=0, timestamp=1_700_000_200_000)
    client.log_metric(running.info.run_id, "val_loss", 0.8, step=1, timestamp=1_700_000_200_000)
    return path


@pytest.fixture
def tracking_uri(tracking_template: Path, tmp_path: Path) -> str:
    """A copy of the template store for each test (the test changes it)."""
    copy = tmp_path / "mlflow.db"
    shutil.copyfile(tracking_template, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def live(store_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(store_url, tmp_path / "server").start()
    try:
        yield server
    finally:
        server.stop()


def run(live: LiveServer, state: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    process = agent(live.address, state, "mlflow", *args, "--json")
    out, err = process.communicate(timeout=120)
    return process.returncode, json.loads(out.strip().splitlines()[-1]), err


def test_import_then_incremental(
    live: LiveServer, store_url: str, tracking_uri: str, tmp_path: Path
) -> None:
    from mlflow.tracking import MlflowClient

    project = live.create_project()
    state = tmp_path / "agent"
    args = ("--project", project, "--tracking-uri", tracking_uri)
    code, summary, err = run(live, state, *args, "--experiment", "churn-model")
    assert code == 0, err
    collected = summary["collected"]
    assert (collected["runs"], collected["runs_sent"], collected["runs_unchanged"]) == (3, 3, 0)
    assert collected["skipped_non_finite"] == 1
    # 5 + 5 steps of the finished run, 1 of the failed, 2 (same millisecond) of the running.
    assert collected["points"] == 13
    assert event_counts(store_url, project) == {"experiment_run": 3}
    points = point_counts(store_url, project)
    assert points == {"mlflow.val_loss": 8, ACCURACY: 5}
    runs = {p.get("run_name") or p.get("runName"): p for p in flatten(store_url, project)}
    assert set(runs) == {"baseline", "too-deep", "tuning"}
    baseline = json.dumps(runs["baseline"])
    assert "learning_rate" in baseline
    assert "FINISHED" in baseline.upper()

    # Nothing changed: nothing is sent again (the experiment named by id this time).
    experiment_id = collected["experiment_id"]
    code, summary, _ = run(live, state, *args, "--experiment", experiment_id)
    assert code == 0
    assert (summary["collected"]["runs_unchanged"], summary["sent"]) == (3, 0)

    # The running run logs more and finishes: only it is sent, its points replace
    # or extend what is stored (never doubled).
    client = MlflowClient(tracking_uri=tracking_uri)
    [tuning] = client.search_runs([experiment_id], filter_string="attributes.run_name = 'tuning'")
    client.log_metric(tuning.info.run_id, "val_loss", 0.7, step=2, timestamp=1_700_000_300_000)
    client.set_terminated(tuning.info.run_id, status="FINISHED")
    code, summary, _ = run(live, state, *args, "--experiment", "churn-model")
    assert code == 0
    assert (summary["collected"]["runs_sent"], summary["collected"]["runs_unchanged"]) == (1, 2)
    assert point_counts(store_url, project) == {"mlflow.val_loss": 9, ACCURACY: 5}
    assert event_counts(store_url, project) == {"experiment_run": 3}
    statuses = json.dumps(flatten(store_url, project)).upper()
    assert statuses.count("FAILED") >= 1

    # --full sends everything again; the store does not change.
    code, summary, _ = run(live, state, *args, "--experiment", "churn-model", "--full")
    assert (code, summary["collected"]["runs_sent"]) == (0, 3)
    assert point_counts(store_url, project) == {"mlflow.val_loss": 9, ACCURACY: 5}

    code, summary, _ = run(live, state, *args, "--experiment", "no-such-experiment")
    assert code == 2
    assert "no-such-experiment" in summary["error"]


def flatten(store_url: str, project: str) -> list[dict[str, Any]]:
    """The stored experiment runs, whatever nesting the store's payload uses."""
    out = []
    for payload in event_payloads(store_url, project, "experiment_run"):
        inner = payload.get("experiment_run") or payload.get("experimentRun") or payload
        out.append(inner)
    return out


def test_every_value_and_key_is_kept_and_steps_count(
    live: LiveServer, store_url: str, tmp_path: Path
) -> None:
    """1,500 values in one millisecond (two log_batch calls), three keys that
    differ only in case and spacing, and a new value equal to the last one."""
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'dense.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment("dense", artifact_location=str(tmp_path / "art"))
    run_id = client.create_run(experiment, run_name="dense").info.run_id
    at = 1_700_000_000_000
    for first in (0, 750):
        batch = [Metric("loss", 1.0 / (s + 1), at, s) for s in range(first, first + 750)]
        client.log_batch(run_id, metrics=batch)
    for step, key in enumerate(("Val Loss", "val loss", "val_loss")):
        client.log_metric(run_id, key, 0.5, step=0, timestamp=at + 10 + step)
    project = live.create_project()
    state = tmp_path / "agent"
    args = ("--project", project, "--tracking-uri", uri, "--experiment", "dense")
    code, summary, err = run(live, state, *args)
    assert code == 0, err
    assert summary["collected"]["points"] == 1503
    assert point_counts(store_url, project) == {
        "mlflow.loss": 1500,
        metric_name("Val Loss")[0]: 1,
        metric_name("val loss")[0]: 1,
        "mlflow.val_loss": 1,
    }
    # The same value at a later step is a change: the run is sent again.
    client.log_metric(run_id, "val_loss", 0.5, step=1, timestamp=at + 20)
    code, summary, _ = run(live, state, *args)
    assert (code, summary["collected"]["runs_sent"]) == (0, 1)
    assert point_counts(store_url, project)["mlflow.val_loss"] == 2


def test_names_are_injective_and_times_distinct() -> None:
    keys = ["val_loss", "Val Loss", "val loss", "VAL_LOSS", "val-loss", "a" * 250, "a" * 249 + "b"]
    names = [metric_name(k) for k in keys]
    assert len({n for n, _ in names}) == len(keys)
    assert names[0] == ("mlflow.val_loss", False)
    assert all(lossy for _, lossy in names[1:4])
    assert all(1 <= len(n) <= 200 for n, _ in names)

    class M:
        def __init__(self, timestamp: int, step: int) -> None:
            self.timestamp, self.step = timestamp, step

    history = [M(5, s) for s in reversed(range(2500))] + [M(6, 0), M(4, 0)]
    timed = point_times(history)
    micros = [t.seconds * 1_000_000 + t.nanos // 1000 for _, t in timed]
    assert len(set(micros)) == len(micros) == 2502
    assert micros == sorted(micros)
    assert [m.step for m, _ in timed[1:4]] == [0, 1, 2]  # step order within a millisecond
    assert micros[0] == 4000
    assert micros[1] == 5000
