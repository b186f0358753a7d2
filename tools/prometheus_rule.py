"""Write k8s/components/monitoring/prometheusrule.yaml from deploy/prometheus/rules/.

The alerting rules have one source, the rules file the compose stack's
Prometheus loads; the Prometheus Operator takes the same rules as a
PrometheusRule. `python tools/prometheus_rule.py` rewrites it, and
tests/deploy/test_alerts.py fails when the two differ.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "deploy" / "prometheus" / "rules" / "maestro.rules.yml"
TARGET = ROOT / "k8s" / "components" / "monitoring" / "prometheusrule.yaml"

HEADER = """\
# Generated from deploy/prometheus/rules/maestro.rules.yml by
# `python tools/prometheus_rule.py`: edit the rules file, not this one.
# The rules, their runbooks (README "Runbooks") and their unit tests
# (deploy/prometheus/tests) are explained there.
"""


def render() -> str:
    spec = yaml.safe_load(RULES.read_text())
    resource = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "maestro", "labels": {"app.kubernetes.io/name": "maestro"}},
        "spec": spec,
    }
    return HEADER + str(yaml.safe_dump(resource, sort_keys=False, width=100))


def main() -> None:
    TARGET.write_text(render())
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
