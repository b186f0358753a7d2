"""The deployment artifacts: k8s/ (kustomize), docker-compose.yml and the Dockerfile.

Kubernetes: the base (`kubectl kustomize k8s/`) and the production overlay
are rendered by the real kubectl, and every object is validated against the
Kubernetes schemas (kubernetes-validate ships them: no network) of the
oldest cluster version we support and of the newest it knows. Compose: the
file is validated against the Compose Specification's JSON schema, vendored
beside this file (its `$comment` names the source). Then what a reviewer
checks: gRPC health probes on the gRPC port, non-root read-only pods with
resources, the migrate Job, the secure-by-default rule (a server that
listens beyond loopback has tokens: checked with the real `Settings`), the
wiring between services, and that every MAESTRO_* variable named here is one
that Maestro reads.
"""

from __future__ import annotations

import ast
import base64
import copy
import json
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml

from maestro_grpc.config import ConfigError, Settings
from maestro_grpc.web.settings import WebSettings
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
PRODUCTION = K8S / "overlays" / "production"
COMPOSE_SCHEMA = Path(__file__).with_name("compose-spec.json")
# The oldest Kubernetes the manifests are for (gRPC probes are GA since
# 1.27; 1.30 is the oldest minor still maintained by most providers), and
# the newest whose schemas kubernetes-validate ships.
K8S_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
GRPC_PORT = 50051
WEB_PORT = 8080
REAL_TOKEN = "ops=" + "x" * 32


# ---- what Maestro reads -------------------------------------------------------------


def _string_constants(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def known_maestro_variables() -> set[str]:
    """Every MAESTRO_* name the server, the web UI, the agent (its connection
    settings are the client package's) or the workers look up."""
    sources = [ROOT / "maestro_grpc" / "config.py", ROOT / "maestro_grpc" / "agent" / "settings.py"]
    sources += [ROOT / "maestro_grpc" / "web" / "settings.py"]
    sources += [ROOT / "clients" / "python" / "maestro_client" / "settings.py"]
    sources += sorted((ROOT / "workers").rglob("*.py"))
    names: set[str] = set()
    for path in sources:
        names |= {s for s in _string_constants(path) if re.fullmatch(r"MAESTRO_[A-Z0-9_]+", s)}
    return names


def test_known_variables_are_found() -> None:
    # Guards the scan above: were it to find nothing, every later check of
    # variable names would pass vacuously.
    known = known_maestro_variables()
    assert {"MAESTRO_HOST", "MAESTRO_AUTH_TOKENS", "MAESTRO_DATABASE_URL"} <= known
    assert {"MAESTRO_ADDRESS", "MAESTRO_TOKEN"} <= known  # the agent's


def _check_variable_names(names: set[str], where: str) -> None:
    known = known_maestro_variables()
    unknown = sorted(n for n in names if n.startswith("MAESTRO_") and n not in known)
    assert not unknown, f"{where} sets variables Maestro never reads: {unknown}"
    # Besides Maestro's own: MLflow's and boto3's standard variables.
    allowed = {"MLFLOW_TRACKING_URI", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    allowed.add("AWS_DEFAULT_REGION")
    others = sorted(n for n in names if not n.startswith("MAESTRO_"))
    assert set(others) <= allowed, f"{where} sets unexpected variables: {others}"


# ---- Kubernetes: rendering ----------------------------------------------------------

CRD_SCHEMAS = Path(__file__).with_name("crd-schemas")
CRD_KINDS = {
    ("gateway.networking.k8s.io/v1", "GRPCRoute"): "grpcroute-gateway.networking.k8s.io-v1.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor-monitoring.coreos.com-v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule-monitoring.coreos.com-v1.json",
}
# Rendered from a fresh clone: the overlays as committed, and production with
# every optional component on.
OVERLAYS = {
    "base": ".",
    "dev": "overlays/dev",
    "production": "overlays/production",
    "production-all": "overlays/production-all",
}
ALL_COMPONENTS = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: maestro
resources:
  - ../production
components:
  - ../../components/monitoring
  - ../../components/gateway
"""


def _kubectl() -> str:
    path = shutil.which("kubectl")
    if path is None:
        skip_or_fail("kubectl is not installed: the Kubernetes manifests cannot be rendered")
    assert path is not None
    return path


def _kustomize(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_kubectl(), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _render(directory: Path) -> list[dict[str, Any]]:
    done = _kustomize(directory)
    assert done.returncode == 0, f"kubectl kustomize {directory} failed:\n{done.stderr}"
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """k8s/ as a fresh clone has it: what git tracks (or would, once added), nothing that
    .gitignore keeps out (the real secrets a person copied in)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "k8s"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    listed = [name for name in listed if (ROOT / name).is_file()]
    assert listed, "git tracks nothing under k8s/"
    tree = tmp_path_factory.mktemp("clone")
    for name in listed:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tree / name)
    every = tree / "k8s" / OVERLAYS["production-all"]
    every.mkdir(parents=True)
    (every / "kustomization.yaml").write_text(ALL_COMPONENTS)
    return tree / "k8s"


@pytest.fixture(scope="module")
def renders(clone: Path) -> dict[str, list[dict[str, Any]]]:
    return {name: _render(clone / path) for name, path in OVERLAYS.items()}


@pytest.fixture(scope="module")
def base(renders: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return renders["base"]


@pytest.fixture(scope="module")
def production(renders: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return renders["production"]


@pytest.fixture(scope="module")
def dev(renders: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return renders["dev"]


@pytest.fixture(params=list(OVERLAYS))
def rendered(
    request: pytest.FixtureRequest, renders: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    return renders[str(request.param)]


def _one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    # Generated ConfigMaps and Secrets may carry a hash of their contents.
    pattern = re.compile(rf"{re.escape(name)}(-[a-z0-9]{{10}})?")
    found = [d for d in docs if d["kind"] == kind and pattern.fullmatch(d["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def _workloads(docs: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from (d for d in docs if d["kind"] in {"Deployment", "Job", "StatefulSet"})


def _maestro(docs: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Maestro's own workloads (the dev overlay adds the stores beside them)."""
    for doc in _workloads(docs):
        if doc["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "maestro":
            yield doc


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    result: dict[str, Any] = containers[0]
    return result


# ---- Kubernetes: the secrets, as the README makes them ------------------------------


def _created_secret(args: list[str]) -> dict[str, Any]:
    """`kubectl create secret generic ... --dry-run=client`: no cluster needed."""
    done = subprocess.run(
        [
            _kubectl(),
            "-n",
            "maestro",
            "create",
            "secret",
            "generic",
            *args,
            "--dry-run=client",
            "-o",
            "yaml",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    secret: dict[str, Any] = yaml.safe_load(done.stdout)
    return secret


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The two Secrets an operator makes, with the README's commands, from the examples
    (the environment as the example has it; a real token)."""
    tmp = tmp_path_factory.mktemp("secrets")
    env_file = tmp / "maestro.env"
    env_file.write_text((PRODUCTION / "secrets" / "maestro.env.example").read_text())
    tokens = tmp / "auth-tokens"
    tokens.write_text(REAL_TOKEN + "\n")
    return [
        _created_secret(["maestro-secrets", f"--from-env-file={env_file}"]),
        _created_secret(["maestro-auth-tokens", f"--from-file=tokens={tokens}"]),
    ]


def _with_inputs(docs: list[dict[str, Any]], inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the namespace holds once the operator made the secrets the overlay lacks."""
    present = {d["metadata"]["name"] for d in docs if d["kind"] == "Secret"}
    return docs + [s for s in inputs if s["metadata"]["name"] not in present]


def test_the_overlays_name_the_secrets_they_need(renders: dict[str, list[dict[str, Any]]]) -> None:
    # Nothing renders a placeholder secret: the base and production name the
    # two inputs, dev makes its environment and needs only the tokens.
    for name, docs in renders.items():
        secrets = {d["metadata"]["name"] for d in docs if d["kind"] == "Secret"}
        assert secrets == ({"maestro-secrets", "dev-stores"} if name == "dev" else set()), name
        server = _one(docs, "Deployment", "maestro-server")
        volumes = server["spec"]["template"]["spec"]["volumes"]
        assert {"secretName": "maestro-auth-tokens", "defaultMode": 0o440} in [
            v.get("secret") for v in volumes
        ]
    readme = (ROOT / "README.md").read_text()
    for command in (
        "create secret generic maestro-secrets --from-env-file=secrets/maestro.env",
        "create secret generic maestro-auth-tokens --from-file=tokens=secrets/auth-tokens",
    ):
        assert command in readme


# ---- Kubernetes: schemas ------------------------------------------------------------


def _strict(schema: Any) -> Any:
    """Unknown fields are errors, as kubectl's strict field validation makes them."""
    if isinstance(schema, dict):
        schema = {k: _strict(v) for k, v in schema.items()}
        open_ended = "additionalProperties" in schema or schema.get(
            "x-kubernetes-preserve-unknown-fields"
        )
        if "properties" in schema and not open_ended:
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def _crd_validator(doc: dict[str, Any]) -> jsonschema.Draft7Validator | None:
    name = CRD_KINDS.get((doc["apiVersion"], doc["kind"]))
    if name is None:
        return None
    schema = _strict(json.loads((CRD_SCHEMAS / name).read_text()))
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
    return jsonschema.Draft7Validator(schema)


def _problems(doc: dict[str, Any], version: str) -> list[str]:
    where = f"{doc['kind']}/{doc['metadata']['name']}"
    crd = _crd_validator(doc)
    if crd is not None:
        return [f"{where} {list(e.path)}: {e.message}" for e in crd.iter_errors(doc)]
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{where} {'.'.join(str(p) for p in error.path)}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError as error:
        return [error.message]
    return []


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_object_is_valid_kubernetes(rendered: list[dict[str, Any]], version: str) -> None:
    kinds = {d["kind"] for d in rendered}
    assert {"Namespace", "ConfigMap", "Job", "Deployment", "Service", "NetworkPolicy"} <= kinds
    assert {"PodDisruptionBudget", "ServiceAccount"} <= kinds
    problems = [p for doc in rendered for p in _problems(doc, version)]
    assert not problems, "\n".join(problems)


def test_every_custom_resource_is_checked(renders: dict[str, list[dict[str, Any]]]) -> None:
    kinds = {(d["apiVersion"], d["kind"]) for docs in renders.values() for d in docs}
    assert set(CRD_KINDS) <= kinds
    for name in CRD_KINDS.values():
        assert "$comment" in json.loads((CRD_SCHEMAS / name).read_text())


def test_the_validators_reject_a_broken_object(renders: dict[str, list[dict[str, Any]]]) -> None:
    # The strict schemas catch what kubectl would reject (a named port where
    # the gRPC probe needs a number, a misspelt field of a custom resource).
    server = copy.deepcopy(_one(renders["base"], "Deployment", "maestro-server"))
    _container(server)["readinessProbe"]["grpc"]["port"] = "grpc"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(server, K8S_VERSIONS[-1], strict=True)
    route = copy.deepcopy(_one(renders["production-all"], "GRPCRoute", "maestro"))
    route["spec"]["rules"][0]["backendRef"] = route["spec"]["rules"][0].pop("backendRefs")
    assert _problems(route, K8S_VERSIONS[-1])
    monitor = copy.deepcopy(_one(renders["production-all"], "ServiceMonitor", "maestro"))
    monitor["spec"]["endpoints"][0]["interval"] = "15 seconds"
    assert _problems(monitor, K8S_VERSIONS[-1])


def test_everything_is_in_the_maestro_namespace(rendered: list[dict[str, Any]]) -> None:
    namespace = _one(rendered, "Namespace", "maestro")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for doc in rendered:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "maestro", doc["metadata"]["name"]


# ---- Kubernetes: the server ---------------------------------------------------------


def test_server_probes_are_grpc_health_checks_on_the_grpc_port(
    rendered: list[dict[str, Any]],
) -> None:
    server = _one(rendered, "Deployment", "maestro-server")
    container = _container(server)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["grpc"] == GRPC_PORT
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        spec = container[probe]
        # Kubernetes' own gRPC probe asks grpc.health.v1.Health/Check; the
        # empty service name is the server as a whole.
        assert set(spec) & {"grpc", "httpGet", "tcpSocket", "exec"} == {"grpc"}, probe
        assert spec["grpc"]["port"] == GRPC_PORT, probe
    # Readiness follows the store (the overall entry); liveness asks the
    # entry that stays SERVING through a store outage, so no restart loop.
    assert container["readinessProbe"]["grpc"].get("service", "") == ""
    assert container["startupProbe"]["grpc"].get("service", "") == ""
    assert container["livenessProbe"]["grpc"]["service"] == "liveness"
    live, ready = container["livenessProbe"], container["readinessProbe"]
    assert (
        live["periodSeconds"] * live["failureThreshold"]
        > ready["periodSeconds"] * ready["failureThreshold"]
    )
    config = _one(rendered, "ConfigMap", "maestro-config")["data"]
    assert config["MAESTRO_PORT"] == str(GRPC_PORT)

    service = _one(rendered, "Service", "maestro-server")
    assert service["spec"]["type"] == "ClusterIP"
    grpc_port, web_port = service["spec"]["ports"]
    assert (grpc_port["port"], grpc_port["targetPort"]) == (GRPC_PORT, "grpc")
    # The web UI, which every server pod serves on the port MAESTRO_WEB_PORT says.
    assert (web_port["name"], web_port["port"], web_port["targetPort"]) == ("web", WEB_PORT, "web")
    assert ports["web"] == WEB_PORT
    assert config["MAESTRO_WEB_PORT"] == str(WEB_PORT)
    headless = _one(rendered, "Service", "maestro-server-headless")
    assert [p["name"] for p in headless["spec"]["ports"]] == ["grpc"]
    selector = service["spec"]["selector"]
    labels = server["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= labels.items()


def test_the_autoscaler_owns_the_servers_replica_count(
    renders: dict[str, list[dict[str, Any]]],
) -> None:
    for name, docs in renders.items():
        server = _one(docs, "Deployment", "maestro-server")
        labels = server["spec"]["template"]["metadata"]["labels"]
        assert server["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        pdb = _one(docs, "PodDisruptionBudget", "maestro-server")
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert pdb["spec"]["maxUnavailable"] == 1
        hpas = [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
        if name == "dev":
            # One of each, and no autoscaler to hold it at a floor.
            assert hpas == []
            assert server["spec"]["replicas"] == 1
            continue
        (hpa,) = hpas
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", server["metadata"]["name"])
        # No replica count beside the autoscaler: an apply would reset a scaled Deployment.
        assert "replicas" not in server["spec"], name
        # Never fewer than two, so that a rollout or a drain always has a spare.
        assert hpa["spec"]["minReplicas"] >= 2
        assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
        # Percent-of-request scaling needs a CPU request.
        assert "cpu" in _container(server)["resources"]["requests"]


def test_shutdown_leaves_time_for_in_flight_calls(rendered: list[dict[str, Any]]) -> None:
    server = _one(rendered, "Deployment", "maestro-server")
    container = _container(server)
    grace = float(_one(rendered, "ConfigMap", "maestro-config")["data"]["MAESTRO_GRACE_SECONDS"])
    pause = float(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert server["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > pause + grace


def _pod_env(docs: list[dict[str, Any]], workload: dict[str, Any]) -> dict[str, str]:
    """The environment the container would see (envFrom, then env)."""
    container = _container(workload)
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= _one(docs, "ConfigMap", source["configMapRef"]["name"])["data"]
        else:
            secret = _one(docs, "Secret", source["secretRef"]["name"])
            if "data" in secret:
                env |= {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
            env |= secret.get("stringData", {})
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
    return env


def _mounted_secret(
    docs: list[dict[str, Any]], workload: dict[str, Any], path: str
) -> tuple[str, str]:
    """(secret name, key) of the secret file at `path` in the container."""
    spec = workload["spec"]["template"]["spec"]
    for mount in _container(workload)["volumeMounts"]:
        directory = mount["mountPath"].rstrip("/") + "/"
        if path.startswith(directory):
            (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
            assert mount.get("readOnly") is True
            return volume["secret"]["secretName"], path[len(directory) :]
    raise AssertionError(f"nothing is mounted at {path}")


def test_server_listens_beyond_loopback_only_with_tokens(
    rendered: list[dict[str, Any]], inputs: list[dict[str, Any]], tmp_path: Path
) -> None:
    docs = _with_inputs(rendered, inputs)
    server = _one(docs, "Deployment", "maestro-server")
    env = _pod_env(docs, server)
    assert env["MAESTRO_HOST"] == "0.0.0.0"
    token_file = env["MAESTRO_AUTH_TOKENS_FILE"]
    secret_name, key = _mounted_secret(docs, server, token_file)
    tokens = base64.b64decode(_one(docs, "Secret", secret_name)["data"][key]).decode()

    # The real Settings, on the pod's environment with the secret at its path:
    # a secure production server.
    local = tmp_path / "tokens"
    local.write_text(tokens)
    pod_env = env | {"MAESTRO_AUTH_TOKENS_FILE": str(local)}
    settings = Settings.from_env(pod_env)
    settings.check_secure()
    assert settings.host == "0.0.0.0"
    assert settings.auth_tokens == {"x" * 32: "ops"}
    assert settings.store_url.startswith("postgresql+asyncpg://")
    assert not settings.should_migrate_on_start
    assert settings.redis_url
    assert settings.s3_bucket
    assert settings.mlflow_tracking_uri
    assert settings.metrics_host == "0.0.0.0"
    # The web UI listens beyond loopback too, on the Service's port; the
    # server starts it only with the tokens above (the same rule).
    web = WebSettings.from_env(pod_env)
    assert (web.host, web.port) == ("0.0.0.0", WEB_PORT)

    # The example's placeholders cannot be used: the server refuses to start on them.
    local.write_text((PRODUCTION / "secrets" / "auth-tokens.example").read_text())
    with pytest.raises(ConfigError, match="shorter than 16"):
        Settings.from_env(pod_env)
    # And without the tokens file, the same pod would refuse to serve.
    bare = {k: v for k, v in pod_env.items() if k != "MAESTRO_AUTH_TOKENS_FILE"}
    with pytest.raises(ConfigError, match="without authentication"):
        Settings.from_env(bare).check_secure()


METRICS_PORTS = {
    "maestro-server": "MAESTRO_METRICS_PORT",
    "maestro-worker-metrics": "MAESTRO_METRICS_WORKER_PORT",
    "maestro-worker-indexer": "MAESTRO_INDEXER_METRICS_PORT",
}


def test_metrics_are_scraped_from_the_ports_maestro_serves_them_on(
    rendered: list[dict[str, Any]],
) -> None:
    config = _one(rendered, "ConfigMap", "maestro-config")["data"]
    assert config["MAESTRO_METRICS_HOST"] == "0.0.0.0"
    for name, setting in METRICS_PORTS.items():
        port = config[setting]
        workload = _one(rendered, "Deployment", name)
        annotations = workload["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == port
        assert annotations["prometheus.io/path"] == "/metrics"
        ports = {p["name"]: p["containerPort"] for p in _container(workload)["ports"]}
        assert ports["metrics"] == int(port)


def test_workers_have_probes_on_their_metrics_endpoint(rendered: list[dict[str, Any]]) -> None:
    for name in ("maestro-worker-metrics", "maestro-worker-indexer"):
        container = _container(_one(rendered, "Deployment", name))
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            spec = container[probe]["httpGet"]
            assert (spec["port"], spec["path"]) == ("metrics", "/metrics"), (name, probe)


# ---- Kubernetes: every workload -----------------------------------------------------


def _dockerfile_user() -> str:
    final = _dockerfile_stages()[-1]
    (user,) = [args for instruction, args in final if instruction == "USER"]
    return user


def test_pods_run_as_non_root_on_a_read_only_root(rendered: list[dict[str, Any]]) -> None:
    uid, gid = (int(part) for part in _dockerfile_user().split(":"))
    workloads = list(_maestro(rendered))
    assert len(workloads) == 4
    for workload in workloads:
        name = workload["metadata"]["name"]
        spec = workload["spec"]["template"]["spec"]
        pod = spec["securityContext"]
        assert (pod["runAsUser"], pod["runAsGroup"]) == (uid, gid), name
        assert spec["automountServiceAccountToken"] is False, name
        security = _container(workload)["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, name
        # What must stay writable is an emptyDir: /tmp and the data dir.
        volumes = {v["name"]: v for v in spec["volumes"]}
        mounts = {m["mountPath"]: volumes[m["name"]] for m in _container(workload)["volumeMounts"]}
        data_dir = _one(rendered, "ConfigMap", "maestro-config")["data"]["MAESTRO_DATA_DIR"]
        for path in ("/tmp", data_dir):
            assert "emptyDir" in mounts[path], (name, path)
            assert mounts[path]["emptyDir"]["sizeLimit"], (name, path)
    # Every pod, the dev stores' too, keeps the restricted Pod Security Standard.
    for workload in _workloads(rendered):
        name = workload["metadata"]["name"]
        pod = workload["spec"]["template"]["spec"]["securityContext"]
        assert pod["runAsNonRoot"] is True, name
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", name
        security = _container(workload)["securityContext"]
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name


def test_every_container_has_requests_and_limits(rendered: list[dict[str, Any]]) -> None:
    for workload in _workloads(rendered):
        resources = _container(workload)["resources"]
        for part in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources[part]), (workload["metadata"]["name"], part)


def test_workloads_run_the_maestro_commands(
    rendered: list[dict[str, Any]], inputs: list[dict[str, Any]]
) -> None:
    docs = _with_inputs(rendered, inputs)
    commands = {
        w["metadata"]["name"]: (_container(w).get("command"), _container(w)["args"])
        for w in _maestro(docs)
    }
    # No `command`: the image's entry point (`maestro`) runs with these.
    assert commands == {
        "maestro-migrate": (None, ["migrate"]),
        "maestro-server": (None, ["serve"]),
        "maestro-worker-metrics": (None, ["worker", "metrics"]),
        "maestro-worker-indexer": (None, ["worker", "indexer"]),
    }
    job = _one(docs, "Job", "maestro-migrate")
    assert job["spec"]["template"]["spec"]["restartPolicy"] in {"OnFailure", "Never"}
    assert job["spec"]["backoffLimit"] >= 1
    # One image, and the migration and the workers reach the server's store.
    server = _one(docs, "Deployment", "maestro-server")
    server_env = _pod_env(docs, server)
    for workload in _maestro(docs):
        assert _container(workload)["image"] == _container(server)["image"]
        env = _pod_env(docs, workload)
        assert env["MAESTRO_DATABASE_URL"] == server_env["MAESTRO_DATABASE_URL"]
        if workload is not server:
            # Only the server listens for gRPC calls.
            assert "MAESTRO_HOST" not in env
            Settings.from_env(env)


def test_production_sets_image_and_worker_replicas(
    base: list[dict[str, Any]], production: list[dict[str, Any]]
) -> None:
    overlay = yaml.safe_load((PRODUCTION / "kustomization.yaml").read_text())
    (image,) = overlay["images"]
    expected_image = f"{image['newName']}:{image['newTag']}"
    replicas = {r["name"]: r["count"] for r in overlay["replicas"]}
    assert set(replicas) == {"maestro-worker-metrics", "maestro-worker-indexer"}
    for workload in _maestro(production):
        assert _container(workload)["image"] == expected_image
        name = workload["metadata"]["name"]
        if name in replicas:
            assert workload["spec"]["replicas"] == replicas[name]
    for workload in _maestro(base):
        assert _container(workload)["image"].startswith("maestro:")
    hpa = _one(production, "HorizontalPodAutoscaler", "maestro-server")
    assert hpa["spec"]["minReplicas"] == 4


def test_variables_in_the_manifests_are_ones_maestro_reads(
    rendered: list[dict[str, Any]], inputs: list[dict[str, Any]]
) -> None:
    docs = _with_inputs(rendered, inputs)
    names: set[str] = set(_one(docs, "ConfigMap", "maestro-config")["data"])
    names |= set(_one(docs, "Secret", "maestro-secrets")["data"])
    for workload in _maestro(docs):
        names |= {item["name"] for item in _container(workload).get("env", [])}
    _check_variable_names(names, "k8s/")


# ---- Kubernetes: the network --------------------------------------------------------


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def _policies_of(docs: list[dict[str, Any]], labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        d["spec"]
        for d in docs
        if d["kind"] == "NetworkPolicy" and _selects(d["spec"]["podSelector"], labels)
    ]


def _admitted(policies: list[dict[str, Any]], port: Any) -> list[list[dict[str, Any]]]:
    """The `from` lists of the rules that admit `port` (an empty list: any source)."""
    return [
        rule.get("from", [])
        for policy in policies
        for rule in policy.get("ingress", [])
        if any(p["port"] == port for p in rule.get("ports", [])) or not rule.get("ports")
    ]


def test_network_policies_admit_only_what_each_pod_serves(rendered: list[dict[str, Any]]) -> None:
    deny = _one(rendered, "NetworkPolicy", "maestro-default-deny-ingress")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}
    monitoring = [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]
    for workload in _maestro(rendered):
        if workload["kind"] == "Job":
            continue
        name = workload["metadata"]["name"]
        policies = _policies_of(rendered, workload["spec"]["template"]["metadata"]["labels"])
        ports = {p["name"] for p in _container(workload)["ports"]}
        # Metrics: from the monitoring namespace only.
        assert _admitted(policies, "metrics") == [monitoring], name
        if name == "maestro-server":
            assert _admitted(policies, "grpc") == [[]], "gRPC is open to any client"
            assert _admitted(policies, "web") == [[]], "the web UI is open to any browser"
            assert ports == {"grpc", "metrics", "web"}
        else:
            assert ports == {"metrics"}
            assert _admitted(policies, "grpc") == [], name
            assert _admitted(policies, "web") == [], name
    # The dev stores answer Maestro's pods (and their own init Jobs) only.
    for workload in _workloads(rendered):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        if labels.get("maestro.dev/dev-store") != "true":
            continue
        (policy,) = [p for p in _policies_of(rendered, labels) if p["podSelector"] != {}]
        (rule,) = policy["ingress"]
        assert rule["from"] == [
            {"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "maestro"}}}
        ]


def test_grpc_from_outside_goes_through_tls(renders: dict[str, list[dict[str, Any]]]) -> None:
    docs = renders["production-all"]
    service = _one(docs, "Service", "maestro-server")
    port_names = {p["name"]: p["port"] for p in service["spec"]["ports"]}
    ingress = _one(docs, "Ingress", "maestro-grpc")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/backend-protocol"] == "GRPC"
    (tls,) = ingress["spec"]["tls"]
    for rule in ingress["spec"]["rules"]:
        assert rule["host"] in tls["hosts"]
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == "maestro-server"
            assert backend["port"]["name"] in port_names
    assert "Ingress" in {d["kind"] for d in renders["production"]}
    route = _one(docs, "GRPCRoute", "maestro")
    (rule,) = route["spec"]["rules"]
    (backend,) = rule["backendRefs"]
    assert (backend["name"], backend["port"]) == ("maestro-server", port_names["grpc"])
    assert route["spec"]["hostnames"] == tls["hosts"]


def test_the_service_monitor_scrapes_every_process_under_the_rules_job_names(
    renders: dict[str, list[dict[str, Any]]],
) -> None:
    docs = renders["production-all"]
    monitor = _one(docs, "ServiceMonitor", "maestro")["spec"]
    (endpoint,) = monitor["endpoints"]
    scraped = [
        d
        for d in docs
        if d["kind"] == "Service" and _selects(monitor["selector"], d["metadata"]["labels"])
    ]
    jobs = {}
    for service in scraped:
        job = service["metadata"]["labels"][monitor["jobLabel"]]
        (port,) = [p for p in service["spec"]["ports"] if p["name"] == endpoint["port"]]
        (workload,) = [
            w
            for w in _maestro(docs)
            if w["kind"] == "Deployment"
            and _selects(
                {"matchLabels": service["spec"]["selector"]},
                w["spec"]["template"]["metadata"]["labels"],
            )
        ]
        container_ports = {p["name"]: p["containerPort"] for p in _container(workload)["ports"]}
        assert container_ports[port["targetPort"]] == port["port"]
        jobs[job] = workload["metadata"]["name"]
    assert jobs == {name: name for name in METRICS_PORTS}
    rule = _one(docs, "PrometheusRule", "maestro")
    rules_file = ROOT / "deploy" / "prometheus" / "rules" / "maestro.rules.yml"
    assert rule["spec"] == yaml.safe_load(rules_file.read_text())
    assert set(re.findall(r'job="([^"]+)"', rules_file.read_text())) <= set(jobs)


def test_dev_runs_everything_in_the_cluster(dev: list[dict[str, Any]]) -> None:
    services = {d["metadata"]["name"] for d in dev if d["kind"] == "Service"}
    server = _one(dev, "Deployment", "maestro-server")
    env = _pod_env(dev, server)
    settings = Settings.from_env({k: v for k, v in env.items() if k != "MAESTRO_AUTH_TOKENS_FILE"})
    for url in (
        settings.store_url,
        settings.redis_url,
        settings.s3_endpoint_url,
        settings.mlflow_tracking_uri,
    ):
        assert urlsplit(url).hostname in services, url
    for workload in _workloads(dev):
        if workload["kind"] != "Job":
            assert workload["spec"]["replicas"] == 1, workload["metadata"]["name"]
    # The database URL's credentials are the dev PostgreSQL's own.
    stores = _one(dev, "Secret", "dev-stores")
    values = {k: base64.b64decode(v).decode() for k, v in stores["data"].items()}
    store = urlsplit(settings.store_url)
    assert (store.username, store.password) == (
        values["POSTGRES_USER"],
        values["POSTGRES_PASSWORD"],
    )
    assert _pod_env(dev, server)["AWS_SECRET_ACCESS_KEY"] == values["MINIO_ROOT_PASSWORD"]
    # MLflow on that PostgreSQL (database mlflow, made by its init Job) and MinIO.
    mlflow = _container(_one(dev, "Deployment", "mlflow"))
    assert any("@postgres:5432/mlflow" in a for a in mlflow["args"])
    init = "\n".join(_container(_one(dev, "Job", "mlflow-db-init"))["args"])
    assert "CREATE DATABASE mlflow" in init
    buckets = "\n".join(_container(_one(dev, "Job", "minio-init"))["args"])
    assert f"local/{settings.s3_bucket}" in buckets
    assert "local/maestro-mlflow" in buckets
    for workload in _maestro(dev):
        assert _container(workload)["image"] == "maestro:dev"


# ---- docker-compose.yml -------------------------------------------------------------

_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


class MissingVariable(Exception):
    """A `${VAR:?message}` whose variable is unset: compose refuses to start."""


def _interpolate(value: Any, environ: Mapping[str, str]) -> Any:
    """Compose's variable interpolation of every string in `value`."""
    if isinstance(value, dict):
        return {k: _interpolate(v, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, environ) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        current = environ.get(name)
        unset = current is None or (op is not None and op.startswith(":") and current == "")
        if op in {"?", ":?"} and unset:
            raise MissingVariable(f"{name}: {arg}")
        if op in {"-", ":-"} and unset:
            return arg
        return current or ""

    return _INTERPOLATION.sub(substitute, value)


@pytest.fixture(scope="module")
def compose_raw() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


@pytest.fixture(scope="module")
def compose(compose_raw: dict[str, Any]) -> dict[str, Any]:
    """The file as `docker compose` sees it with only the tokens set."""
    resolved: dict[str, Any] = _interpolate(compose_raw, {"MAESTRO_AUTH_TOKENS": REAL_TOKEN})
    return resolved


MAESTRO_SERVICES = ("migrate", "server", "worker-metrics", "worker-indexer")


def test_compose_file_follows_the_compose_specification(compose_raw: dict[str, Any]) -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(compose_raw)]
    assert not errors, "\n".join(errors)
    # And the schema is strict enough to catch a misspelt key.
    broken = copy.deepcopy(compose_raw)
    broken["services"]["server"]["depend_on"] = ["postgres"]
    assert list(validator.iter_errors(broken))


def test_compose_server_requires_tokens(compose_raw: dict[str, Any]) -> None:
    # Without MAESTRO_AUTH_TOKENS compose itself refuses (`${...:?...}`),
    # before any container starts.
    with pytest.raises(MissingVariable, match="MAESTRO_AUTH_TOKENS"):
        _interpolate(compose_raw, {})
    with pytest.raises(MissingVariable, match="MAESTRO_AUTH_TOKENS"):
        _interpolate(compose_raw, {"MAESTRO_AUTH_TOKENS": ""})


def test_compose_server_settings_are_secure_and_complete(compose: dict[str, Any]) -> None:
    server = compose["services"]["server"]
    env = {k: str(v) for k, v in server["environment"].items()}
    settings = Settings.from_env(env)
    settings.check_secure()
    assert settings.host == "0.0.0.0"
    assert settings.auth_tokens == {"x" * 32: "ops"}
    assert not settings.should_migrate_on_start
    # The server is wired to the stack's own services.
    services = compose["services"]
    for url in (settings.store_url, settings.redis_url, settings.s3_endpoint_url):
        assert urlsplit(url).hostname in services, url
    assert server["ports"] == [f"{GRPC_PORT}:{GRPC_PORT}", f"{WEB_PORT}:{WEB_PORT}"]
    web = WebSettings.from_env(env)
    assert (web.host, web.port) == ("0.0.0.0", WEB_PORT)
    assert "localhost:8080/healthz" in "\n".join(server["healthcheck"]["test"])
    # Everything else is published on loopback only, if at all.
    for name, service in services.items():
        if name != "server":
            for port in service.get("ports", []):
                assert str(port).startswith("127.0.0.1:"), (name, port)
    # Only the server listens for gRPC calls.
    for name in MAESTRO_SERVICES:
        if name != "server":
            assert "MAESTRO_HOST" not in services[name]["environment"]
            Settings.from_env({k: str(v) for k, v in services[name]["environment"].items()})


def test_compose_services_start_in_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, (name, dependency)

    def waits_for(name: str) -> dict[str, str]:
        return {k: v["condition"] for k, v in services[name].get("depends_on", {}).items()}

    commands = {name: services[name]["command"] for name in MAESTRO_SERVICES}
    assert commands == {
        "migrate": ["migrate"],
        "server": ["serve"],
        "worker-metrics": ["worker", "metrics"],
        "worker-indexer": ["worker", "indexer"],
    }
    assert waits_for("migrate") == {"postgres": "service_healthy"}
    assert services["migrate"]["restart"] == "no"
    assert waits_for("server") == {
        "migrate": "service_completed_successfully",
        "redis": "service_healthy",
        "minio-init": "service_completed_successfully",
        "mlflow": "service_healthy",
    }
    for worker in ("worker-metrics", "worker-indexer"):
        assert waits_for(worker)["migrate"] == "service_completed_successfully"
    assert waits_for("worker-indexer")["minio-init"] == "service_completed_successfully"
    for dependency in ("postgres", "redis"):
        assert services[dependency]["healthcheck"]["test"]

    # The bucket the init step creates is the one Maestro uses.
    bucket = services["server"]["environment"]["MAESTRO_S3_BUCKET"]
    script = "\n".join(services["minio-init"]["entrypoint"])
    assert f"mc mb --ignore-existing local/{bucket}" in script
    assert services["minio-init"]["environment"] == services["minio"]["environment"]

    # All four run the image this repository's Dockerfile builds.
    for name in MAESTRO_SERVICES:
        service = services[name]
        assert service["build"] == {"context": ".", "dockerfile": "Dockerfile"}
        assert service["image"] == services["server"]["image"]
        assert service["read_only"] is True
        assert "/tmp" in service["tmpfs"]

    # The server's health check is a gRPC health check on its own port.
    check = "\n".join(services["server"]["healthcheck"]["test"])
    assert "HealthStub" in check
    assert f"localhost:{GRPC_PORT}" in check


ONE_SHOT = {"migrate", "minio-init", "mlflow-db-init"}


def test_every_long_running_compose_service_has_a_health_check(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service["restart"] == "no", name
            continue
        check = service.get("healthcheck", {}).get("test")
        assert check, f"{name} has no health check"
        assert service["restart"] == "unless-stopped", name
    # What waits for a service that has a health check waits for it to be healthy;
    # what waits for a one-shot waits for it to have succeeded.
    for name, service in services.items():
        for dependency, how in service.get("depends_on", {}).items():
            expected = (
                "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            )
            if name == "prometheus":  # it scrapes whatever answers, even a server starting up
                continue
            assert how["condition"] == expected, (name, dependency)
    # The workers' checks ask their own metrics ports.
    settings = Settings.from_env(
        {k: str(v) for k, v in services["worker-metrics"]["environment"].items()}
    )
    for name, port in (
        ("worker-metrics", settings.metrics_worker_port),
        ("worker-indexer", settings.indexer_metrics_port),
    ):
        assert f"http://localhost:{port}/metrics" in " ".join(services[name]["healthcheck"]["test"])


def test_compose_mlflow_is_shared_and_on_the_stacks_postgres_and_minio(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    mlflow = services["mlflow"]
    for name in MAESTRO_SERVICES:
        env = services[name]["environment"]
        assert urlsplit(env["MLFLOW_TRACKING_URI"]).hostname == "mlflow", name
        assert Settings.from_env({k: str(v) for k, v in env.items()}).mlflow_tracking_uri
    args = dict(a.removeprefix("--").split("=", 1) for a in mlflow["command"] if "=" in a)
    assert "--serve-artifacts" in mlflow["command"]
    assert args["port"] == str(
        urlsplit(services["server"]["environment"]["MLFLOW_TRACKING_URI"]).port
    )
    store = urlsplit(args["backend-store-uri"])
    assert (store.scheme, store.hostname, store.path) == ("postgresql", "postgres", "/mlflow")
    assert store.username == services["postgres"]["environment"]["POSTGRES_USER"]
    assert store.password == services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    # Its database is made by mlflow-db-init, its bucket by minio-init.
    init = "\n".join(services["mlflow-db-init"]["entrypoint"])
    assert "CREATE DATABASE mlflow" in init
    bucket = urlsplit(args["artifacts-destination"]).hostname
    assert f"mc mb --ignore-existing local/{bucket}" in "\n".join(
        services["minio-init"]["entrypoint"]
    )
    assert urlsplit(mlflow["environment"]["MLFLOW_S3_ENDPOINT_URL"]).hostname == "minio"
    assert (
        mlflow["environment"]["AWS_SECRET_ACCESS_KEY"]
        == (services["minio"]["environment"]["MINIO_ROOT_PASSWORD"])
    )
    # The server's version is the client's that Maestro's lock file pins.
    dockerfile = (ROOT / mlflow["build"]["context"] / "Dockerfile").read_text()
    pinned = re.search(r"^ARG MLFLOW_VERSION=(\S+)$", dockerfile, re.M)
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    (client,) = [p["version"] for p in lock["package"] if p["name"] == "mlflow-skinny"]
    assert pinned is not None
    assert pinned.group(1) == client
    assert re.search(r"^USER 10001", dockerfile, re.M)


def test_compose_variables_are_ones_maestro_reads(compose: dict[str, Any]) -> None:
    names: set[str] = set()
    for name in MAESTRO_SERVICES:
        names |= set(compose["services"][name]["environment"])
    _check_variable_names(names, "docker-compose.yml")


def test_prometheus_scrapes_the_metrics_ports(compose: dict[str, Any]) -> None:
    services = compose["services"]
    mounts = dict(v.rsplit(":", 2)[:2] for v in services["prometheus"]["volumes"] if ":" in v)
    config_path = ROOT / next(s for s, t in mounts.items() if t.endswith("prometheus.yml"))
    config = yaml.safe_load(config_path.read_text())
    targets = {}
    for job in config["scrape_configs"]:
        for sd in job.get("dns_sd_configs", []):
            for name in sd["names"]:
                targets[name] = sd["port"]
    env = {k: str(v) for k, v in services["server"]["environment"].items()}
    settings = Settings.from_env(env)
    assert settings.metrics_host == "0.0.0.0"
    assert targets == {
        "server": settings.metrics_port,
        "worker-metrics": settings.metrics_worker_port,
        "worker-indexer": settings.indexer_metrics_port,
    }


# ---- Dockerfile ---------------------------------------------------------------------


def _dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions, stage by stage: [(INSTRUCTION, arguments)]."""
    text = (ROOT / "Dockerfile").read_text()
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    stages: list[list[tuple[str, str]]] = []
    for line in lines:
        instruction, _, args = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction, args.strip()))
    return stages


def test_dockerfile_builds_in_stages_with_uv() -> None:
    stages = _dockerfile_stages()
    assert len(stages) >= 3  # uv, build, runtime
    froms = [stage[0][1] for stage in stages]
    assert froms[0].startswith("ghcr.io/astral-sh/uv:")
    build = " ".join(args for stage in stages[:-1] for ins, args in stage if ins == "RUN")
    assert "uv sync --frozen --no-dev --no-install-project" in build
    assert "uv sync --frozen --no-dev --no-editable" in build
    runtime = stages[-1]
    # The runtime stage gets the built environment, not the sources or uv.
    copies = [args for ins, args in runtime if ins == "COPY"]
    assert copies == ["--from=build /app/.venv /app/.venv"]
    # The uv version is the Makefile's.
    makefile = (ROOT / "Makefile").read_text()
    uv_version = re.search(r"^UV_VERSION := (\S+)", makefile, re.M)
    assert uv_version is not None
    assert f"ARG UV_VERSION={uv_version.group(1)}" in (ROOT / "Dockerfile").read_text()


def test_dockerfile_runs_maestro_as_a_non_root_user() -> None:
    runtime = _dockerfile_stages()[-1]
    user = _dockerfile_user()
    uid, _, gid = user.partition(":")
    # Numeric, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
    assert uid.isdigit()
    assert gid.isdigit()
    assert int(uid) != 0
    assert int(gid) != 0
    instructions = [ins for ins, _ in runtime]
    # USER comes after everything that needs root, before the entry point.
    assert instructions.index("USER") > max(
        i for i, ins in enumerate(instructions) if ins in {"RUN", "COPY"}
    )
    (entrypoint,) = [json.loads(args) for ins, args in runtime if ins == "ENTRYPOINT"]
    (cmd,) = [json.loads(args) for ins, args in runtime if ins == "CMD"]
    assert entrypoint == ["maestro"]
    assert cmd == ["serve"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["maestro"] == "maestro_grpc.cli:main"
    (expose,) = [args.split() for ins, args in runtime if ins == "EXPOSE"]
    assert str(GRPC_PORT) in expose
    defaults = Settings()
    for port in (
        defaults.metrics_port,
        defaults.metrics_worker_port,
        defaults.indexer_metrics_port,
    ):
        assert str(port) in expose
    env = " ".join(args for ins, args in runtime if ins == "ENV")
    assert "MAESTRO_DATA_DIR=/data" in env
    _check_variable_names(set(re.findall(r"\b(MAESTRO_[A-Z0-9_]+)=", env)), "Dockerfile")


def test_dockerignore_keeps_what_the_build_copies() -> None:
    # .dockerignore excludes everything but an allow-list: each source the
    # build stage copies must be on it.
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    copied = set()
    for stage in _dockerfile_stages()[:-1]:
        for instruction, args in stage:
            if instruction == "COPY" and not args.startswith("--from"):
                copied |= {source.rstrip("/") for source in args.split()[:-1]}
    assert copied
    assert copied <= allowed, copied - allowed
    for source in copied:
        assert (ROOT / source).exists(), source
