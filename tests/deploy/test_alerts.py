"""The alerting rules: valid for Prometheus, unit-tested rule by rule, each with a runbook.

`promtool` (Debian's prometheus package; `.ci/run` installs it) checks the
rules file and the compose stack's Prometheus configuration with it, and
runs the unit tests in deploy/prometheus/tests/. Then what promtool cannot
know: every alert has a test case in which it fires, a severity, a runbook
link, and a line in the README's runbooks; the Kubernetes PrometheusRule
carries the same rules. That every metric a rule names is exported by a
running process is checked against live scrapes (test_observability.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS / "rules" / "maestro.rules.yml"
RULE_TESTS = PROMETHEUS / "tests" / "maestro.test.yml"
PROMETHEUS_RULE = ROOT / "k8s" / "components" / "monitoring" / "prometheusrule.yaml"
RUNBOOKS = "https://github.com/maestro-dev/maestro/blob/main/README.md#runbooks"


def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    path = shutil.which("promtool")
    if path is None:
        skip_or_fail("promtool is not installed (apt-get install prometheus)")
    assert path is not None
    return subprocess.run(
        [path, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def rules() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(RULES.read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def alerts() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in rules() if "alert" in rule}


def test_promtool_accepts_the_rules() -> None:
    done = promtool("check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules())} rules found" in done.stdout


def test_every_rule_passes_its_unit_tests() -> None:
    done = promtool("test", "rules", RULE_TESTS.name, cwd=RULE_TESTS.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_promtool_fails_a_wrong_expectation(tmp_path: Path) -> None:
    # The unit tests can fail: the same file with one expected label changed does.
    (tmp_path / "rules").mkdir()
    shutil.copy(RULES, tmp_path / "rules" / RULES.name)
    (tmp_path / "tests").mkdir()
    broken = RULE_TESTS.read_text().replace("task: gc}", "task: verify}", 1)
    assert broken != RULE_TESTS.read_text()
    (tmp_path / "tests" / RULE_TESTS.name).write_text(broken)
    done = promtool("test", "rules", RULE_TESTS.name, cwd=tmp_path / "tests")
    assert done.returncode != 0
    assert "MaestroIndexerFailing" in done.stdout + done.stderr


def test_every_alert_has_a_case_where_it_fires_and_one_where_it_does_not() -> None:
    cases = yaml.safe_load(RULE_TESTS.read_text())
    assert cases["rule_files"] == [f"../rules/{RULES.name}"]
    fires: set[str] = set()
    quiet: set[str] = set()
    for case in cases["tests"]:
        for check in case.get("alert_rule_test", []):
            (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert set(alerts()) - fires == set(), "alerts never seen firing"
    assert set(alerts()) - quiet == set(), "alerts never seen quiet"
    assert fires <= set(alerts()), "tests of alerts that do not exist"


def test_every_alert_is_labelled_and_has_a_runbook() -> None:
    readme = (ROOT / "README.md").read_text()
    runbooks = readme[readme.index("\n### Runbooks\n") :]
    for name, rule in alerts().items():
        assert re.fullmatch(r"Maestro[A-Z][A-Za-z]+", name), name
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        annotations = rule["annotations"]
        assert annotations["runbook_url"] == RUNBOOKS, name
        assert annotations["summary"], name
        assert annotations["description"], name
        assert re.search(rf"^\| `{name}` \|", runbooks, re.M), f"README has no runbook for {name}"


def test_the_issue_asks_for_these_alerts() -> None:
    # Error ratio per service, ingest stalled, store unreachable, rollup
    # backlog growing, watchers dropped, indexer and training failures,
    # certificates near expiry.
    assert {
        "MaestroHighErrorRatio",
        "MaestroIngestStalled",
        "MaestroStoreUnreachable",
        "MaestroRollupBacklogGrowing",
        "MaestroWatchersDropped",
        "MaestroIndexerFailing",
        "MaestroTrainingFailed",
        "MaestroCertificateExpiresSoon",
    } <= set(alerts())
    error_ratio = alerts()["MaestroHighErrorRatio"]["expr"]
    assert "by (grpc_service)" in error_ratio


def test_compose_prometheus_loads_the_rules(tmp_path: Path) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    volumes = compose["services"]["prometheus"]["volumes"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in volumes if v.startswith("./")}
    assert (ROOT / mounts["/etc/prometheus/rules"]).resolve() == RULES.parent
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    # promtool checks the configuration with the rules it names, at their place here.
    config["rule_files"] = [str(RULES)]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    done = promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules())} rules found" in done.stdout
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    used = set(re.findall(r'job=~?"([^"]+)"', RULES.read_text()))
    assert {"maestro-server", "maestro-worker-metrics", "maestro-worker-indexer"} <= jobs
    assert all(any(re.fullmatch(pattern, job) for job in jobs) for pattern in used), used


def test_the_prometheus_rule_carries_the_same_rules() -> None:
    if not PROMETHEUS_RULE.exists():
        pytest.fail(f"{PROMETHEUS_RULE} is missing")
    resource = yaml.safe_load(PROMETHEUS_RULE.read_text())
    assert resource["apiVersion"] == "monitoring.coreos.com/v1"
    assert resource["kind"] == "PrometheusRule"
    assert resource["spec"] == yaml.safe_load(RULES.read_text()), (
        "k8s/components/monitoring/prometheusrule.yaml differs from the rules file: "
        "run `python tools/prometheus_rule.py`"
    )
