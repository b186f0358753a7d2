"""Write Maestro's Grafana dashboards (deploy/grafana/dashboards/*.json), one per part.

gRPC overview, ingest and streams, store and workers, registry and cache,
prediction and experiments. Panels are declared here in a few lines each
and laid out in rows; `python tools/dashboards.py` rewrites the JSON, and
tests/deploy/test_observability.py fails when the files differ from what
this writes, or when a panel names a metric no running process exports.

Queries that can have no series (no error ever happened) end in
`or vector(0)`, so a quiet server shows 0, not "No data".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "deploy" / "grafana" / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SERVER_CODES = "UNKNOWN|INTERNAL|UNAVAILABLE|DEADLINE_EXCEEDED|DATA_LOSS|UNIMPLEMENTED"
RATE = "[$__rate_interval]"
GRPC = 'job=~"$job", grpc_service=~"$service", grpc_method=~"$method"'


@dataclass
class Panel:
    title: str
    description: str
    exprs: list[tuple[str, str]]  # (expr, legend)
    unit: str = "short"
    kind: str = "timeseries"  # or "stat"
    thresholds: list[tuple[float, str]] = field(default_factory=list)


def stat(title: str, description: str, expr: str, unit: str = "short", **kw: Any) -> Panel:
    return Panel(title, description, [(expr, "")], unit, "stat", **kw)


def series(title: str, description: str, *exprs: tuple[str, str], unit: str = "short") -> Panel:
    return Panel(title, description, list(exprs), unit)


def _variables(grpc: bool) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [
        {
            "name": "datasource",
            "label": "Data source",
            "type": "datasource",
            "query": "prometheus",
            "current": {"selected": True, "text": "Prometheus", "value": "maestro-prometheus"},
            "hide": 0,
            "refresh": 1,
        }
    ]
    if not grpc:
        return found
    choices = [
        ("job", "Job", "label_values(grpc_server_started_total, job)"),
        (
            "service",
            "Service",
            'label_values(grpc_server_started_total{job=~"$job"}, grpc_service)',
        ),
        (
            "method",
            "Method",
            'label_values(grpc_server_started_total{job=~"$job", grpc_service=~"$service"}, '
            "grpc_method)",
        ),
    ]
    for name, label, query in choices:
        found.append(
            {
                "name": name,
                "label": label,
                "type": "query",
                "datasource": DATASOURCE,
                "query": {"query": query, "refId": f"{name}-var"},
                "definition": query,
                "refresh": 2,
                "includeAll": True,
                "multi": True,
                "allValue": ".*",
                "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
                "sort": 1,
            }
        )
    return found


def _panel(panel: Panel, number: int, grid: dict[str, int]) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    steps += [{"color": color, "value": value} for value, color in panel.thresholds]
    out: dict[str, Any] = {
        "id": number,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": grid,
        "fieldConfig": {
            "defaults": {"unit": panel.unit, "thresholds": {"mode": "absolute", "steps": steps}},
            "overrides": [],
        },
        "targets": [
            {
                "datasource": DATASOURCE,
                "expr": expr,
                "legendFormat": legend,
                "refId": chr(ord("A") + i),
                "range": True,
            }
            for i, (expr, legend) in enumerate(panel.exprs)
        ],
    }
    if panel.kind == "stat":
        out["options"] = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "value",
            "graphMode": "area",
            "textMode": "auto",
        }
    else:
        out["options"] = {
            "legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull"]},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
    return out


def dashboard(
    uid: str, title: str, description: str, panels: list[Panel], *, grpc: bool = False
) -> dict[str, Any]:
    laid: list[dict[str, Any]] = []
    x = y = 0
    row_height = 0
    for number, panel in enumerate(panels, start=1):
        width, height = (6, 4) if panel.kind == "stat" else (12, 8)
        if x + width > 24:
            x, y = 0, y + row_height
            row_height = 0
        laid.append(_panel(panel, number, {"h": height, "w": width, "x": x, "y": y}))
        x += width
        row_height = max(row_height, height)
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["maestro"],
        "timezone": "browser",
        "editable": False,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": _variables(grpc)},
        "annotations": {"list": []},
        "links": [
            {"type": "dashboards", "tags": ["maestro"], "asDropdown": True, "title": "Maestro"}
        ],
        "panels": laid,
    }


# ---- the dashboards -----------------------------------------------------------------


def grpc_overview() -> dict[str, Any]:
    handled = f"grpc_server_handled_total{{{GRPC}}}"
    errors = f'grpc_server_handled_total{{{GRPC}, grpc_code=~"{SERVER_CODES}"}}'
    unary = f'grpc_server_handling_seconds_bucket{{{GRPC}, grpc_type="unary"}}'
    return dashboard(
        "maestro-grpc",
        "Maestro gRPC",
        "Calls, errors, latency and streams of the Maestro servers (grpc_server_* and "
        "maestro_grpc_* on MAESTRO_METRICS_PORT), and the processes themselves.",
        [
            stat(
                "Calls per second",
                "RPCs started per second.",
                f"sum(rate(grpc_server_started_total{{{GRPC}}}{RATE})) or vector(0)",
                "reqps",
            ),
            stat(
                "Server errors",
                "Share of completed RPCs that ended with a server-side code ("
                f"{SERVER_CODES.replace('|', ', ')}). Client mistakes are not counted. 0 when "
                "there are none.",
                f"(sum(rate({errors}{RATE})) or vector(0)) / "
                f"clamp_min(sum(rate({handled}{RATE})) or vector(0), 1e-9)",
                "percentunit",
                thresholds=[(0.01, "orange"), (0.05, "red")],
            ),
            stat(
                "Unary latency p99",
                "99th percentile of unary RPCs' handling time.",
                f"histogram_quantile(0.99, sum by (le) (rate({unary}{RATE})))",
                "s",
            ),
            stat(
                "Unary calls in flight",
                "Unary RPCs running now. Streams are not counted: an open stream may idle "
                "for its whole lifetime (see Open streams).",
                f'sum(maestro_grpc_calls_open{{{GRPC}, grpc_type="unary"}}) or vector(0)',
            ),
            series(
                "Calls per second by method",
                "RPCs started per second.",
                (
                    "sum by (grpc_service, grpc_method) "
                    f"(rate(grpc_server_started_total{{{GRPC}}}{RATE}))",
                    "{{grpc_method}}",
                ),
                unit="reqps",
            ),
            series(
                "Completed calls by status code",
                "RPCs completed per second, by status code.",
                (f"sum by (grpc_code) (rate({handled}{RATE}))", "{{grpc_code}}"),
                unit="reqps",
            ),
            series(
                "Unary latency by method",
                "Median, 95th and 99th percentile of unary handling time.",
                *[
                    (
                        f"histogram_quantile({q}, sum by (le, grpc_method) (rate({unary}{RATE})))",
                        f"p{int(q * 100)} {{{{grpc_method}}}}",
                    )
                    for q in (0.5, 0.95, 0.99)
                ],
                unit="s",
            ),
            series(
                "Errors by method and reason",
                "Calls that ended in an error, by method, status code and ErrorInfo reason.",
                (
                    "sum by (grpc_method, grpc_code, reason) "
                    f"(rate(maestro_grpc_errors_total{{{GRPC}}}{RATE}))",
                    "{{grpc_method}} {{grpc_code}} {{reason}}",
                ),
                unit="reqps",
            ),
            series(
                "Open streams by method",
                "Streaming calls open now (StreamMetrics, WatchMetrics, uploads, downloads, "
                "TrainMetaModel).",
                (
                    f'sum by (grpc_method) (maestro_grpc_calls_open{{{GRPC}, grpc_type!="unary"}})',
                    "{{grpc_method}}",
                ),
            ),
            series(
                "Stream messages per second",
                "Messages received and sent on streaming calls.",
                (
                    "sum by (grpc_method) (rate(grpc_server_msg_received_total"
                    f'{{{GRPC}, grpc_type!="unary"}}{RATE}))',
                    "in {{grpc_method}}",
                ),
                (
                    "sum by (grpc_method) (rate(grpc_server_msg_sent_total"
                    f'{{{GRPC}, grpc_type!="unary"}}{RATE}))',
                    "out {{grpc_method}}",
                ),
            ),
            series(
                "Process CPU",
                "CPU seconds per second of each Maestro process.",
                (
                    'sum by (job, instance) (rate(process_cpu_seconds_total{job=~"maestro-.+"}'
                    f"{RATE}))",
                    "{{job}} {{instance}}",
                ),
            ),
            series(
                "Process memory",
                "Resident memory of each Maestro process.",
                (
                    'sum by (job, instance) (process_resident_memory_bytes{job=~"maestro-.+"})',
                    "{{job}} {{instance}}",
                ),
                unit="bytes",
            ),
            stat(
                "Certificate expires in",
                "Time until the first certificate a server loaded (its own, or the client CA) "
                "expires; servers read them at start only. Empty without TLS.",
                "min(maestro_tls_certificate_expiry_timestamp_seconds) - time()",
                "s",
            ),
        ],
        grpc=True,
    )


def ingest() -> dict[str, Any]:
    watch_drops = 'maestro_grpc_errors_total{grpc_method="WatchMetrics", reason="WATCHER_TOO_SLOW"}'
    return dashboard(
        "maestro-ingest",
        "Maestro ingest and streams",
        "What CI agents write (RecordMetrics, StreamMetrics), what is refused, the ingest "
        "buffer's back-pressure, open streams and watchers, and the event bus between replicas.",
        [
            stat(
                "Points per second",
                "Metric points stored per second, every RPC.",
                f"sum(rate(maestro_ingest_points_total{RATE})) or vector(0)",
            ),
            stat(
                "Events per second",
                "Process events stored per second.",
                f"sum(rate(maestro_ingest_events_total{RATE})) or vector(0)",
            ),
            stat(
                "Ingest buffer used",
                "Share of MAESTRO_METRICS_INGEST_BUFFER_BYTES held by received, unstored "
                "batches (the fullest replica). At 100% streams stop being read.",
                "max(maestro_ingest_buffer_bytes / maestro_ingest_buffer_limit_bytes) or vector(0)",
                "percentunit",
                thresholds=[(0.5, "orange"), (0.9, "red")],
            ),
            stat(
                "Open streams",
                "StreamMetrics streams open on all replicas.",
                "sum(maestro_metrics_streams_open) or vector(0)",
            ),
            series(
                "Rows stored per second",
                "Points and events stored, by RPC.",
                (f"sum by (rpc) (rate(maestro_ingest_points_total{RATE}))", "points {{rpc}}"),
                (f"sum by (rpc) (rate(maestro_ingest_events_total{RATE}))", "events {{rpc}}"),
            ),
            series(
                "Rows refused per second",
                "Rows answered in `rejected`, by reason (INVALID_ROW, PROJECT_NOT_FOUND, "
                "PERMISSION_DENIED).",
                (
                    f"sum by (rpc, reason) (rate(maestro_ingest_rejected_rows_total{RATE}))",
                    "{{rpc}} {{reason}}",
                ),
            ),
            series(
                "Batches per second",
                "Batches stored, and acked again as duplicates (an agent resending after a "
                "reconnect).",
                (
                    f"sum by (rpc, outcome) (rate(maestro_ingest_batches_total{RATE}))",
                    "{{rpc}} {{outcome}}",
                ),
            ),
            series(
                "Back-pressure",
                "Bytes the ingest buffer holds per replica, and how often a batch waited for it.",
                ("sum by (instance) (maestro_ingest_buffer_bytes)", "held {{instance}}"),
                ("max(maestro_ingest_buffer_limit_bytes)", "limit"),
                unit="bytes",
            ),
            series(
                "Waits for the buffer per second",
                "Batches that found the ingest buffer full (streams were then not read).",
                (
                    f"sum by (instance) (rate(maestro_ingest_buffer_waits_total{RATE}))",
                    "{{instance}}",
                ),
            ),
            series(
                "Open streams and watchers",
                "StreamMetrics streams and WatchMetrics watches open, per replica.",
                ("sum by (instance) (maestro_metrics_streams_open)", "streams {{instance}}"),
                (
                    'sum by (instance) (maestro_limit_calls_open{kind="watches"})',
                    "watchers {{instance}}",
                ),
            ),
            series(
                "Watchers dropped",
                "Watches cut off: too slow a reader, or the event bus failed under it.",
                (f"sum by (reason) (rate({watch_drops}{RATE})) or vector(0)", "{{reason}}"),
            ),
            series(
                "Event bus",
                "Messages published on the bus between replicas, failed publishes and "
                "subscriptions, and the subscriptions open.",
                (f"sum(rate(maestro_event_bus_published_total{RATE}))", "published"),
                (f"sum(rate(maestro_event_bus_publish_failures_total{RATE}))", "publish failures"),
                (
                    f"sum(rate(maestro_event_bus_subscribe_failures_total{RATE}))",
                    "subscribe failures",
                ),
                ("sum(maestro_event_bus_subscriptions)", "subscriptions"),
            ),
            series(
                "Refused by a limit",
                "Calls refused RESOURCE_EXHAUSTED by a limit (per caller or server-wide), and "
                "RecordMetrics refused because the buffer stayed full.",
                (f"sum by (reason) (rate(maestro_limit_refusals_total{RATE}))", "{{reason}}"),
                (
                    'sum(rate(maestro_grpc_errors_total{reason="INGEST_BUSY"}'
                    f"{RATE})) or vector(0)",
                    "INGEST_BUSY",
                ),
            ),
        ],
    )


def store_and_workers() -> dict[str, Any]:
    return dashboard(
        "maestro-store",
        "Maestro store and workers",
        "The store's reachability and pools, the rollup queue and the DEFAULT partition, the "
        "indexer's tasks, and every worker's passes and process.",
        [
            stat(
                "Store reachable",
                "Servers whose last health check reached the store, of all servers.",
                "sum(maestro_store_up) / count(maestro_store_up)",
                "percentunit",
            ),
            stat(
                "Rollup jobs due",
                "Rollup jobs due and waiting for a metrics worker.",
                "max(maestro_rollup_jobs_due) or vector(0)",
            ),
            stat(
                "Oldest due rollup",
                "How long the oldest due rollup job has waited.",
                "max(maestro_rollup_oldest_due_age_seconds) or vector(0)",
                "s",
                thresholds=[(300, "orange"), (600, "red")],
            ),
            stat(
                "Points in DEFAULT partition",
                "Points in metric_points_default, waiting to be moved to their month's "
                "partition by the metrics worker.",
                "max(maestro_metric_points_default_partition_rows) or vector(0)",
                thresholds=[(1, "orange")],
            ),
            series(
                "Pool connections",
                "Connections in use and idle per process and pool, and the most a pool opens.",
                (
                    'sum by (job, instance, pool) (maestro_db_pool_connections{state="in_use"})',
                    "in use {{job}} {{instance}} {{pool}}",
                ),
                (
                    'sum by (job, instance, pool) (maestro_db_pool_connections{state="idle"})',
                    "idle {{job}} {{instance}} {{pool}}",
                ),
                ("max(maestro_db_pool_max_connections)", "max"),
            ),
            series(
                "Rollup queue",
                "Rollup jobs queued (waiting for their delay, due, or running) and due.",
                ("max(maestro_rollup_jobs_queued)", "queued"),
                ("max(maestro_rollup_jobs_due)", "due"),
            ),
            series(
                "Rollup windows per second",
                "Windows rolled up by the metrics workers, and those that failed (retried).",
                (
                    f"sum by (outcome) (rate(maestro_rollup_windows_total{RATE}))",
                    "{{outcome}}",
                ),
            ),
            series(
                "Worker passes",
                "Passes of each worker, by outcome, and seconds since the last good one.",
                (
                    f"sum by (worker, outcome) (rate(maestro_worker_passes_total{RATE}))",
                    "{{worker}} {{outcome}}",
                ),
                (
                    "time() - max by (worker) (maestro_worker_last_success_timestamp_seconds)",
                    "since last good {{worker}} (s)",
                ),
                (
                    f"sum by (worker) (rate(maestro_worker_items_total{RATE}))",
                    "items done {{worker}}",
                ),
            ),
            series(
                "Indexer tasks",
                "Indexer tasks run, by task and outcome.",
                (
                    f"sum by (task, outcome) (increase(maestro_indexer_jobs_total{RATE}))",
                    "{{task}} {{outcome}}",
                ),
            ),
            series(
                "Indexer task duration",
                "90th percentile of each task's duration.",
                (
                    "histogram_quantile(0.9, sum by (le, task) "
                    f"(rate(maestro_indexer_job_duration_seconds_bucket{RATE})))",
                    "{{task}}",
                ),
                unit="s",
            ),
            series(
                "Since each task last succeeded",
                "Seconds since each indexer task last succeeded, beside its interval.",
                (
                    "time() - max by (task) (maestro_indexer_last_success_timestamp_seconds)",
                    "{{task}}",
                ),
                ("max(maestro_indexer_interval_seconds)", "interval"),
                unit="s",
            ),
            series(
                "Open file descriptors",
                "Open file descriptors of each Maestro process, beside its limit.",
                ('sum by (job, instance) (process_open_fds{job=~"maestro-.+"})', "{{instance}}"),
                ('max(process_max_fds{job=~"maestro-.+"})', "limit"),
            ),
        ],
    )


def registry_and_cache() -> dict[str, Any]:
    registry = 'grpc_service="maestro.registry.v1.RegistryService"'
    return dashboard(
        "maestro-registry",
        "Maestro registry and cache",
        "RegistryService calls, the GetProject cache, artifact content transfers and the "
        "indexer's blob checks and garbage collection.",
        [
            stat(
                "Cache hit ratio",
                "GetProject calls answered from memory (PostgreSQL only).",
                f"sum(rate(maestro_project_cache_hits_total{RATE})) / clamp_min("
                f"sum(rate(maestro_project_cache_hits_total{RATE})) + "
                f"sum(rate(maestro_project_cache_misses_total{RATE})), 1e-9)",
                "percentunit",
            ),
            stat(
                "Cached projects",
                "Projects held in the caches of all replicas.",
                "sum(maestro_project_cache_entries) or vector(0)",
            ),
            stat(
                "Downloads open",
                "Blob reads (downloads) open on all replicas.",
                "sum(maestro_blob_reads_open) or vector(0)",
            ),
            stat(
                "Bad blobs",
                "Stored blobs whose last verification failed.",
                "max(maestro_indexer_bad_blobs) or vector(0)",
                thresholds=[(1, "red")],
            ),
            series(
                "Registry calls per second",
                "RegistryService RPCs by method.",
                (
                    f"sum by (grpc_method) (rate(grpc_server_started_total{{{registry}}}{RATE}))",
                    "{{grpc_method}}",
                ),
                unit="reqps",
            ),
            series(
                "Registry latency p99",
                "99th percentile of each RegistryService method's handling time.",
                (
                    "histogram_quantile(0.99, sum by (le, grpc_method) (rate("
                    f"grpc_server_handling_seconds_bucket{{{registry}}}{RATE})))",
                    "{{grpc_method}}",
                ),
                unit="s",
            ),
            series(
                "Project cache",
                "Hits and misses per second; whether each replica's change feed is connected "
                "(the cache answers only then).",
                (f"sum(rate(maestro_project_cache_hits_total{RATE}))", "hits"),
                (f"sum(rate(maestro_project_cache_misses_total{RATE}))", "misses"),
                ("min(maestro_project_cache_armed)", "armed (all replicas)"),
            ),
            series(
                "Artifact cache",
                "GetArtifact's hits and misses per second, artifacts held, and whether each "
                "replica's artifact change feed is connected (the cache answers only then).",
                (f"sum(rate(maestro_artifact_cache_hits_total{RATE}))", "hits"),
                (f"sum(rate(maestro_artifact_cache_misses_total{RATE}))", "misses"),
                ("sum(maestro_artifact_cache_entries) or vector(0)", "entries"),
                ("min(maestro_artifact_cache_armed)", "armed (all replicas)"),
            ),
            series(
                "Transfers open",
                "Uploads and downloads holding a slot, and download read-ahead memory.",
                ('sum(maestro_limit_calls_open{kind="transfers"})', "transfers"),
                ('sum(maestro_limit_calls_open{kind="downloads"})', "downloads"),
            ),
            series(
                "Read-ahead",
                "Bytes downloads hold read ahead of what they sent "
                "(MAESTRO_LIMIT_DOWNLOAD_BUFFER_BYTES bounds it).",
                ("sum by (instance) (maestro_blob_read_ahead_bytes)", "{{instance}}"),
                unit="bytes",
            ),
            series(
                "Impact scores",
                "Artifacts recomputed by the indexer, and those whose score changed.",
                (f"sum(rate(maestro_indexer_artifacts_rescored_total{RATE}))", "rescored"),
                (f"sum(rate(maestro_indexer_impact_scores_changed_total{RATE}))", "changed"),
            ),
            series(
                "Blob verification",
                "Blobs re-hashed by the indexer, by result.",
                (
                    f"sum by (result) (increase(maestro_indexer_blobs_verified_total{RATE}))",
                    "{{result}}",
                ),
            ),
            series(
                "Blob garbage collection",
                "Blobs and bytes removed, failures (retried), upload leftovers swept.",
                (f"sum(increase(maestro_indexer_blobs_collected_total{RATE}))", "blobs"),
                (f"sum(increase(maestro_indexer_blob_bytes_collected_total{RATE}))", "bytes"),
                (f"sum(increase(maestro_indexer_gc_failures_total{RATE}))", "failures"),
                (
                    f"sum(increase(maestro_indexer_upload_leftovers_swept_total{RATE}))",
                    "leftovers swept",
                ),
            ),
        ],
    )


def prediction() -> dict[str, Any]:
    service = 'grpc_service="maestro.prediction.v1.PredictionService"'
    return dashboard(
        "maestro-prediction",
        "Maestro prediction and experiments",
        "PredictionService calls (predictions, team recommendations, experiments), meta-model "
        "training runs and the version they stored.",
        [
            stat(
                "Meta-model version",
                "The version the last successful training run stored (0: none since start).",
                "max(maestro_meta_model_version)",
            ),
            stat(
                "Cross-validated ROC AUC",
                "Of that version.",
                "max(maestro_meta_model_cv_roc_auc)",
                "percentunit",
            ),
            stat(
                "Trainings running",
                "Training runs in progress, all replicas.",
                "sum(maestro_training_runs_running) or vector(0)",
            ),
            stat(
                "Since the last good training",
                "Time since a training run last stored a version (any replica).",
                "time() - max(maestro_training_last_success_timestamp_seconds > 0)",
                "s",
            ),
            series(
                "Training runs",
                "TrainMetaModel runs by outcome (ok, not_trainable, tracking_unavailable, "
                "cancelled, error).",
                (
                    f"sum by (outcome) (increase(maestro_training_runs_total{RATE}))",
                    "{{outcome}}",
                ),
            ),
            series(
                "Training duration",
                "Median and 90th percentile of training runs' duration.",
                (
                    "histogram_quantile(0.5, sum by (le) "
                    f"(rate(maestro_training_duration_seconds_bucket{RATE})))",
                    "p50",
                ),
                (
                    "histogram_quantile(0.9, sum by (le) "
                    f"(rate(maestro_training_duration_seconds_bucket{RATE})))",
                    "p90",
                ),
                unit="s",
            ),
            series(
                "Prediction calls per second",
                "PredictionService RPCs by method.",
                (
                    f"sum by (grpc_method) (rate(grpc_server_started_total{{{service}}}{RATE}))",
                    "{{grpc_method}}",
                ),
                unit="reqps",
            ),
            series(
                "Prediction latency p95",
                "95th percentile of each unary PredictionService method's handling time.",
                (
                    "histogram_quantile(0.95, sum by (le, grpc_method) (rate("
                    f'grpc_server_handling_seconds_bucket{{{service}, grpc_type="unary"}}'
                    f"{RATE})))",
                    "{{grpc_method}}",
                ),
                unit="s",
            ),
            series(
                "Prediction errors",
                "PredictionService calls that ended in an error, by method and reason.",
                (
                    "sum by (grpc_method, reason) (rate(maestro_grpc_errors_total"
                    f"{{{service}}}{RATE}))",
                    "{{grpc_method}} {{reason}}",
                ),
            ),
        ],
    )


DASHBOARDS = {
    "maestro-grpc.json": grpc_overview,
    "maestro-ingest.json": ingest,
    "maestro-store.json": store_and_workers,
    "maestro-registry.json": registry_and_cache,
    "maestro-prediction.json": prediction,
}


def render() -> dict[str, str]:
    return {name: json.dumps(build(), indent=2) + "\n" for name, build in DASHBOARDS.items()}


def main() -> None:
    for name, text in render().items():
        (TARGET / name).write_text(text)
        print(f"wrote {(TARGET / name).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
