"""The Terraform module (deploy/terraform), parsed with python-hcl2 and checked.

`terraform validate` needs the providers, which only the GitHub workflow can
fetch; here the module is read as HCL and held to what Maestro needs: every
variable and output documented (in the file and the README), every
variable used and every reference declared, providers pinned, the secret
the manifests read with only variables Maestro reads, and a bucket that is
private, encrypted and versioned.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest

from tests.deploy.test_manifests import known_maestro_variables

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "deploy" / "terraform"


def _clean(value: Any) -> Any:
    """python-hcl2 keeps the quotes of names and strings and marks blocks: drop both."""
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _load() -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = {}
    for path in sorted(MODULE.glob("*.tf")):
        with path.open() as handle:
            for key, blocks in _clean(hcl2.load(handle)).items():
                merged.setdefault(key, []).extend(blocks)
    return merged


def _blocks(kind: str) -> dict[str, dict[str, Any]]:
    """{name: body} of the module's `variable`/`output` blocks."""
    return {name: body for block in _load().get(kind, []) for name, body in block.items()}


def _resources() -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for block in _load().get("resource", []):
        for kind, named in block.items():
            for name, body in named.items():
                found[kind.strip('"'), name.strip('"')] = body
    return found


def _text() -> str:
    return "\n".join(p.read_text() for p in sorted(MODULE.glob("*.tf")))


def _unquote(value: Any) -> Any:
    return value.strip('"') if isinstance(value, str) else value


def test_the_module_parses_and_pins_its_providers() -> None:
    (terraform,) = _load()["terraform"]
    assert _unquote(terraform["required_version"]).startswith(">=")
    (providers,) = terraform["required_providers"]
    assert set(providers) == {"aws", "kubernetes", "random"}
    for name, spec in providers.items():
        assert _unquote(spec["source"]) == f"hashicorp/{name}"
        assert re.fullmatch(r"~> \d+\.\d+", _unquote(spec["version"])), name


def test_every_variable_and_output_is_documented() -> None:
    readme = (MODULE / "README.md").read_text()
    variables, outputs = _blocks("variable"), _blocks("output")
    assert variables
    assert outputs
    for name, body in variables.items():
        assert _unquote(body.get("description", "")), f"variable {name} has no description"
        assert "type" in body, f"variable {name} has no type"
        assert f"| `{name}` |" in readme, f"README lists no variable {name}"
    for name, body in outputs.items():
        assert _unquote(body.get("description", "")), f"output {name} has no description"
        assert f"| `{name}` |" in readme, f"README lists no output {name}"
    # What holds a password is marked sensitive.
    assert outputs["database_url"]["sensitive"] is True


def test_every_variable_is_used_and_every_reference_declared() -> None:
    text = _text()
    declared = set(_blocks("variable"))
    used = set(re.findall(r"\bvar\.([a-z_]+)", text))
    assert used == declared
    locals_ = {name for block in _load().get("locals", []) for name in block}
    assert set(re.findall(r"\blocal\.([a-z_]+)", text)) <= locals_
    resources = _resources()
    for kind, name in set(
        re.findall(r"\b(aws_[a-z0-9_]+|kubernetes_[a-z_]+|random_[a-z_]+)\.([a-z_]+)\b", text)
    ):
        if kind.startswith("aws_") and (kind, name) not in resources:
            # data sources are written data.<kind>.<name>
            assert f'data "{kind}" "{name}"' in text, (kind, name)
        elif not kind.startswith("aws_"):
            assert (kind, name) in resources, (kind, name)


def test_the_secret_is_the_one_the_manifests_read_with_variables_maestro_reads() -> None:
    secret = _resources()["kubernetes_secret", "maestro"]
    (metadata,) = secret["metadata"]
    assert _unquote(metadata["name"]) == "maestro-secrets"
    assert _unquote(metadata["namespace"]) == "${var.namespace}"
    assert _blocks("variable")["namespace"]["default"] == "maestro"
    data = secret["data"]
    names = set(data)
    known = known_maestro_variables()
    assert {n for n in names if n.startswith("MAESTRO_")} <= known
    assert names - known <= {"AWS_DEFAULT_REGION"}
    assert _unquote(data["MAESTRO_DATABASE_URL"]).startswith("postgresql+asyncpg://")
    assert _unquote(data["MAESTRO_REDIS_URL"]).startswith("rediss://")
    deployment = (ROOT / "k8s" / "base" / "server-deployment.yaml").read_text()
    assert "name: maestro-secrets" in deployment


def test_the_stores_are_private_encrypted_and_backed_up() -> None:
    r = _resources()
    db = r["aws_db_instance", "maestro"]
    assert db["storage_encrypted"] is True
    assert db["deletion_protection"] is True
    assert _unquote(db["backup_retention_period"]) == "${var.db_backup_retention_days}"
    assert _unquote(db["engine"]) == "postgres"
    redis = r["aws_elasticache_replication_group", "maestro"]
    assert redis["transit_encryption_enabled"] is True
    block = r["aws_s3_bucket_public_access_block", "artifacts"]
    assert all(
        block[k] is True
        for k in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        )
    )
    (versioning,) = r["aws_s3_bucket_versioning", "artifacts"]["versioning_configuration"]
    assert _unquote(versioning["status"]) == "Enabled"
    assert ("aws_s3_bucket_server_side_encryption_configuration", "artifacts") in r
    # Only the cluster reaches PostgreSQL and Redis.
    for name, port in (("db", 5432), ("redis", 6379)):
        (ingress,) = r["aws_security_group", name]["ingress"]
        assert (ingress["from_port"], ingress["to_port"]) == (port, port)
        assert _unquote(ingress["security_groups"]) == "${var.client_security_group_ids}"
        assert "cidr_blocks" not in ingress


def test_terraform_fmt_where_terraform_is_installed() -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed (the GitHub workflow runs fmt and validate)")
    done = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff"],
        cwd=MODULE,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
