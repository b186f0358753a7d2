"""Fail when a module or a function outgrows its budget without a reason written beside it.

Budgets: a module of at most MODULE_LINES lines, a function of at most
FUNCTION_LINES (its whole body, docstring and comments included: what a
reader has to hold). A larger one passes only with a comment saying why:
`# long: <reason>` on the line above the `def` (or its decorators), or
`# long module: <reason>` among the module's first lines.

    python tools/check_sizes.py maestro_grpc workers
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MODULE_LINES = 500
FUNCTION_LINES = 60
SKIP_PARTS = {"migrations", "__pycache__"}


def _reason_above(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    above = lines[first - 2].strip() if first >= 2 else ""
    return above.startswith("# long:") and len(above) > len("# long:") + 3


def check(path: Path) -> list[str]:
    text = path.read_text()
    lines = text.splitlines()
    problems = []
    head = "\n".join(lines[:15])
    if len(lines) > MODULE_LINES and "# long module:" not in head:
        problems.append(
            f"{path}: {len(lines)} lines (budget {MODULE_LINES}; say why with '# long module:')"
        )
    for node in ast.walk(ast.parse(text, str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > FUNCTION_LINES and not _reason_above(lines, node):
                problems.append(
                    f"{path}:{node.lineno}: {node.name} is {length} lines "
                    f"(budget {FUNCTION_LINES}; say why with '# long:' above it)"
                )
    return problems


def main(roots: list[str]) -> int:
    problems = []
    for root in roots:
        for path in sorted(Path(root).rglob("*.py")):
            if not SKIP_PARTS.intersection(path.parts):
                problems.extend(check(path))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} over budget", file=sys.stderr)
        return 1
    print("sizes: every module and function within budget (or says why not)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["maestro_grpc", "workers"]))
