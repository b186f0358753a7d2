"""Puts the generated stubs of the public services into the wheel, as package `maestro`.

They come from the repository's generated/ (two folders up), the one copy in
git. `maestro.internal` (the server's page-token internals) stays out: a
client treats page tokens as opaque.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SKIPPED = {"internal"}
SUFFIXES = {".py", ".pyi"}


class GeneratedStubsHook(BuildHookInterface):  # type: ignore[misc]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        generated = Path(self.root).parent.parent / "generated" / "maestro"
        if not (generated / "__init__.py").is_file():
            raise RuntimeError(
                f"{generated} is missing: build the wheel from the repository's source tree "
                "(make client), after `make generate`"
            )
        for path in sorted(generated.rglob("*")):
            relative = path.relative_to(generated)
            if not path.is_file() or path.suffix not in SUFFIXES or relative.parts[0] in SKIPPED:
                continue
            build_data["force_include"][str(path)] = str(Path("maestro") / relative)
        # The stubs come with their .pyi files: say so to type checkers.
        build_data["force_include"][str(Path(self.root) / "stubs.typed")] = "maestro/py.typed"
