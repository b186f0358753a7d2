"""What Prometheus would scrape from a running deployment, and the dashboards and alerts on it.

One PostgreSQL-backed server (in this process) serves a few calls of every
kind; `maestro worker metrics` and `maestro worker indexer` run as the
processes they are in production, each on a metrics port of its own. Their
three scrapes are what every check below reads: each process exports its
own figures and its process figures, no label is named `job` or
`instance`, every metric a dashboard panel or an alerting rule names is
exported by one of them, and every family Maestro exports is charted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.config import Settings
from maestro_grpc.exposition import RESERVED_LABELS
from maestro_grpc.server import start_server
from tests.conftest import _truncate_pg
from tests.deploy.test_alerts import RULES, promtool
from tests.metrics.helpers import BASE_US, columns, point
from tools import dashboards

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
PROCESSES = ("server", "worker-metrics", "worker-indexer")
# Every process exports these beside its own (the collectors a private
# registry needs registered explicitly, and the store's pools).
PROCESS_FAMILIES = {
    "process_cpu_seconds",
    "process_resident_memory_bytes",
    "process_open_fds",
    "process_max_fds",
    "process_start_time_seconds",
    "python_info",
    "python_gc_collections",
    "maestro_db_pool_connections",
    "maestro_db_pool_max_connections",
}
OWN_FAMILIES = {
    "server": {
        "grpc_server_handled",
        "maestro_grpc_calls_open",
        "maestro_grpc_errors",
        "maestro_ingest_points",
        "maestro_ingest_rejected_rows",
        "maestro_ingest_buffer_bytes",
        "maestro_metrics_streams_open",
        "maestro_store_up",
        "maestro_event_bus_published",
        "maestro_training_runs",
        "maestro_tls_certificate_expiry_timestamp_seconds",
    },
    "worker-metrics": {
        "maestro_rollup_jobs_queued",
        "maestro_rollup_oldest_due_age_seconds",
        "maestro_metric_points_default_partition_rows",
        "maestro_worker_passes",
    },
    "worker-indexer": {"maestro_indexer_jobs", "maestro_worker_passes"},
}
# Families exported on purpose without a chart of their own.
UNCHARTED = {"maestro_event_bus_info"}
OURS = re.compile(r"^(grpc_server|maestro)_")
METRIC_NAME = re.compile(r"\b((?:grpc_server|maestro|process|python)_[a-z0-9_]+)\b")


# ---- the deployment, scraped ------------------------------------------------------


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        return str(reply.read().decode())


class Worker:
    """A `maestro worker ...` process, and the metrics port it printed."""

    def __init__(self, kind: str, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "maestro_grpc", "worker", kind],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def port(self, within: float = 60.0) -> int:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                assert self.process.poll() is None, "".join(self.output)
                continue
            found = re.search(r"metrics on http://[^:]+:(\d+)/metrics", line)
            if found:
                return int(found.group(1))
        raise AssertionError(f"no metrics port within {within} s: {''.join(self.output)}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _passed_once(text: str) -> bool:
    return bool(re.search(r'maestro_worker_passes_total\{outcome="ok",[^}]*\} [1-9]', text))


def _tls_files(tmp: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, so the server exports its expiry."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp / "server.pem", tmp / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def _calls(channel: grpc.aio.Channel) -> None:
    """A few calls of every kind: writes, a refused row, a stream, a watch, an error."""
    registry = registry_service_pb2_grpc.RegistryServiceStub(channel)
    metrics = metrics_service_pb2_grpc.MetricsServiceStub(channel)
    created = await registry.CreateProject(
        rs.CreateProjectRequest(project=pp.Project(name=f"scrape-{uuid.uuid4().hex[:6]}"))
    )
    project = created.project.id
    await registry.GetProject(rs.GetProjectRequest(project_id=project))
    with contextlib.suppress(grpc.aio.AioRpcError):
        await registry.GetProject(rs.GetProjectRequest(project_id=str(uuid.uuid4())))
    batch = mp.MetricBatch(
        points=[point(project, "ci.duration_seconds", 1.5, "2026-03-02T09:00:00Z")],
        columns=[columns(str(uuid.uuid4()), [1.0])],  # a project that does not exist
    )
    await metrics.RecordMetrics(ms.RecordMetricsRequest(batch=batch))
    watch = metrics.WatchMetrics(ms.WatchMetricsRequest(project_id=project))
    await watch.read()  # the watch is in place
    call = metrics.StreamMetrics(None)
    await call.write(ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id="scrape-agent")))
    await call.read()
    batch = mp.MetricBatch(columns=[columns(project, [1.0, 2.0], start_us=BASE_US)])
    await call.write(ms.StreamMetricsRequest(batch=ms.StreamBatch(sequence=1, batch=batch)))
    await call.read()
    await call.done_writing()
    watch.cancel()


async def _deployment(pg_url: str, tmp: Path) -> dict[str, str]:
    cert, key = _tls_files(tmp)
    settings = Settings(
        host="127.0.0.1",
        port=0,
        data_dir=tmp / "server",
        database_url=pg_url,
        migrate_on_start=False,
        metrics_port=0,
        metrics_host="127.0.0.1",
        health_interval_seconds=0.2,
        metrics_inprocess_worker=False,
        tls_cert_file=cert,
        tls_key_file=key,
    )
    env = {
        **os.environ,
        "MAESTRO_DATABASE_URL": pg_url,
        "MAESTRO_DATA_DIR": str(tmp / "workers"),
        "MAESTRO_METRICS_HOST": "127.0.0.1",
        "MAESTRO_METRICS_WORKER_PORT": "0",
        "MAESTRO_INDEXER_METRICS_PORT": "0",
        "MAESTRO_METRICS_WORKER_INTERVAL_SECONDS": "0.2",
        "MAESTRO_METRICS_ROLLUP_DELAY_SECONDS": "0",
    }
    workers = {kind: Worker(kind, env) for kind in ("metrics", "indexer")}
    running = await start_server(settings)
    try:
        credentials = grpc.ssl_channel_credentials(cert.read_bytes())
        async with grpc.aio.secure_channel(f"127.0.0.1:{running.port}", credentials) as channel:
            await _calls(channel)
        ports = {f"worker-{kind}": await asyncio.to_thread(w.port) for kind, w in workers.items()}
        texts: dict[str, str] = {}
        deadline = time.monotonic() + 60
        while set(texts) != set(ports):
            assert time.monotonic() < deadline, (
                f"workers never passed once: {set(ports) - set(texts)}"
            )
            for name, port in ports.items():
                text = await asyncio.to_thread(_scrape, port)
                if _passed_once(text):
                    texts[name] = text
            await asyncio.sleep(0.2)
        assert running.metrics_port is not None
        texts["server"] = await asyncio.to_thread(_scrape, running.metrics_port)
        return texts
    finally:
        await running.stop(grace=0.2)
        for worker in workers.values():
            worker.stop()


@pytest.fixture(scope="module")
def scrapes(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # The run's database, emptied: a token an earlier test on this worker left
    # there would make the deployment require one (and its calls UNAUTHENTICATED).
    _truncate_pg(pg_url)
    return asyncio.run(_deployment(pg_url, tmp_path_factory.mktemp("scrape")))


def families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def series_names(text: str) -> set[str]:
    """The names PromQL can use: each family's samples, and what its type implies."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names |= {sample.name for sample in family.samples}
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names |= {f"{family.name}_{s}" for s in ("bucket", "sum", "count")}
        else:
            names.add(family.name)
    return names


def _exprs(panel: dict[str, Any]) -> Iterator[str]:
    for target in panel.get("targets", []):
        yield target["expr"]
    for inner in panel.get("panels", []):
        yield from _exprs(inner)


def _names_in(expr: str) -> set[str]:
    without_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    return set(METRIC_NAME.findall(without_strings))


def _dashboards() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


# ---- the processes ----------------------------------------------------------------


@pytest.mark.parametrize("process", PROCESSES)
def test_each_process_exports_its_own_and_the_process_figures(
    scrapes: dict[str, str], process: str
) -> None:
    exported = set(families(scrapes[process]))
    assert PROCESS_FAMILIES - exported == set()
    assert OWN_FAMILIES[process] - exported == set()


def test_no_label_is_named_job_or_instance(scrapes: dict[str, str]) -> None:
    for process, text in scrapes.items():
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                clash = set(sample.labels) & RESERVED_LABELS
                assert not clash, f"{process}: {sample.name} has {clash}"


def test_the_figures_count_what_happened(scrapes: dict[str, str]) -> None:
    server = families(scrapes["server"])

    def value(family: str, **labels: str) -> float:
        return sum(  # type: ignore[no-any-return]
            s.value
            for s in server[family].samples
            if s.name in {family, f"{family}_total"}
            and all(s.labels.get(k) == v for k, v in labels.items())
        )

    assert value("maestro_ingest_points", rpc="RecordMetrics") == 1
    assert value("maestro_ingest_points", rpc="StreamMetrics") == 2
    assert (
        value("maestro_ingest_rejected_rows", rpc="RecordMetrics", reason="PROJECT_NOT_FOUND") == 1
    )
    assert value("maestro_grpc_errors", grpc_method="GetProject", reason="PROJECT_NOT_FOUND") == 1
    assert value("maestro_store_up") == 1
    # The streams ended: only the idle scrape-time calls are open, no stream.
    assert value("maestro_grpc_calls_open", grpc_method="StreamMetrics") == 0
    (expiry,) = server["maestro_tls_certificate_expiry_timestamp_seconds"].samples
    assert expiry.labels == {"certificate": "server"}
    assert 29 * 86400 < expiry.value - time.time() <= 30 * 86400
    indexer = families(scrapes["worker-indexer"])
    tasks = {
        s.labels["task"] for s in indexer["maestro_indexer_jobs"].samples if "task" in s.labels
    }
    assert {"impact", "verify", "gc"} <= tasks


# ---- dashboards ---------------------------------------------------------------------


def test_the_dashboards_are_what_the_generator_writes() -> None:
    written = {path.name: path.read_text() for path in DASHBOARDS.glob("*.json")}
    assert written == dashboards.render(), "run `python tools/dashboards.py` and commit"


def test_there_is_a_dashboard_for_every_part() -> None:
    titles = {d["title"] for d in _dashboards().values()}
    assert titles == {
        "Maestro gRPC",
        "Maestro ingest and streams",
        "Maestro store and workers",
        "Maestro registry and cache",
        "Maestro prediction and experiments",
    }
    uids = [d["uid"] for d in _dashboards().values()]
    assert len(set(uids)) == len(uids)


def test_every_panel_charts_metrics_a_running_process_exports(scrapes: dict[str, str]) -> None:
    exported = set().union(*(series_names(text) for text in scrapes.values()))
    for name, dashboard in _dashboards().items():
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        assert variables["datasource"]["current"]["value"] == "maestro-prometheus", name
        for panel in dashboard["panels"]:
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
            exprs = list(_exprs(panel))
            assert exprs, panel["title"]
            for expr in exprs:
                found = _names_in(expr)
                assert found, f"{name} {panel['title']}: no metric in {expr}"
                missing = found - exported
                assert not missing, f"{name} {panel['title']}: {missing} not exported"


def test_every_family_maestro_exports_is_charted(scrapes: dict[str, str]) -> None:
    used: set[str] = set()
    for dashboard in _dashboards().values():
        for panel in dashboard["panels"]:
            for expr in _exprs(panel):
                used |= _names_in(expr)
    charted = {re.sub(r"_(bucket|sum|count|total)$", "", name) for name in used}
    ours = {name for text in scrapes.values() for name in families(text) if OURS.match(name)}
    assert ours - charted - UNCHARTED == set()


def test_the_server_errors_panel_shows_zero_rather_than_no_data() -> None:
    (panel,) = [
        p for p in _dashboards()["maestro-grpc.json"]["panels"] if p["title"] == "Server errors"
    ]
    assert "or vector(0)" in panel["targets"][0]["expr"]
    (in_flight,) = [
        p
        for p in _dashboards()["maestro-grpc.json"]["panels"]
        if p["title"] == "Unary calls in flight"
    ]
    assert 'grpc_type="unary"' in in_flight["targets"][0]["expr"]


def test_every_dashboard_query_parses(tmp_path: Path) -> None:
    # promtool parses each query as a recording rule, with Grafana's variables filled in.
    fill = {"$__rate_interval": "5m", '"$job"': '".*"', '"$service"': '".*"', '"$method"': '".*"'}
    rules: list[dict[str, str]] = []
    for dashboard in _dashboards().values():
        for panel in dashboard["panels"]:
            for expr in _exprs(panel):
                for variable, value in fill.items():
                    expr = expr.replace(variable, value)
                rules.append({"record": f"dashboard:query:{len(rules)}", "expr": expr})
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    done = promtool("check", "rules", str(path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_grafana_provisions_every_dashboard() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    grafana = compose["services"]["grafana"]
    mounts = {v.split(":")[1]: ROOT / v.split(":")[0] for v in grafana["volumes"] if "./" in v}
    provisioning = mounts["/etc/grafana/provisioning"]
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "maestro.yml").read_text())[
        "providers"
    ]
    assert mounts[provider["options"]["path"]].resolve() == DASHBOARDS
    (datasource,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert datasource["uid"] == "maestro-prometheus"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{provider['options']['path']}/maestro-grpc.json"


# ---- alerting rules -----------------------------------------------------------------


def test_every_alert_names_metrics_a_running_process_exports(scrapes: dict[str, str]) -> None:
    exported = set().union(*(series_names(text) for text in scrapes.values()))
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            found = _names_in(rule["expr"])
            assert found or "up{" in rule["expr"], rule["alert"]
            assert found <= exported, f"{rule['alert']}: {found - exported} not exported"
