"""The web UI is a client of the public API: its import contract names every other part."""

from __future__ import annotations

import pkgutil
import tomllib

import maestro_grpc
from tests.agent.live import ROOT


def test_the_contract_forbids_every_other_part_of_the_service() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (web,) = [c for c in contracts if c["id"] == "web-is-a-client"]
    assert web["source_modules"] == ["maestro_grpc.web"]
    assert not web.get("allow_indirect_imports", False)
    siblings = {
        f"maestro_grpc.{m.name}"
        for m in pkgutil.iter_modules(maestro_grpc.__path__)
        if m.name not in {"web", "__main__"}
    }
    # A module added to maestro_grpc must be added to the contract too.
    assert siblings <= set(web["forbidden_modules"]), siblings - set(web["forbidden_modules"])
    assert {"sqlalchemy", "asyncpg", "aiosqlite"} <= set(web["forbidden_modules"])


def test_vendored_libraries_are_the_versions_their_readme_names() -> None:
    vendor = ROOT / "maestro_grpc" / "web" / "static" / "vendor"
    readme = (vendor / "README.md").read_text()
    assert 'version:"2.0.11"' in (vendor / "htmx.min.js").read_text()
    assert "| 2.0.11 |" in readme
    assert (
        (vendor / "uplot.min.js")
        .read_text()
        .startswith("/*! https://github.com/leeoniya/uPlot (v1.6.32) */")
    )
    assert "| 1.6.32 |" in readme
    for licence in ("htmx.LICENSE", "uplot.LICENSE"):
        assert (vendor / licence).read_text().strip()
