"""List every function longer than the house limit; exit 1 if any is unexcused.

Issue 16 ("no function over 60 lines in traceability/"), STYLE.md habit 11
(small functions that each do one thing). A function's length runs from its
``def`` line to its last line, decorators excluded, nested functions counted
in the function that holds them (and measured on their own as well).

A function that must stay long says why on its ``def`` line (or on the line
closing its signature)::

    def render(...) -> bytes:  # long-function: one table, cell by cell, in print order

Run ``python tools/long_functions.py [paths...]`` (default: traceability ledger);
``make lint`` runs it.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

LIMIT = 60
MARKER = "# long-function:"
DEFAULT_PATHS = ("traceability", "ledger")


@dataclass(frozen=True)
class LongFunction:
    """One function over the limit, where it is and whether it says why."""

    path: Path
    line: int
    name: str
    length: int
    reason: str | None

    def describe(self) -> str:
        """One line for the report: location, length, name and any excuse."""
        excuse = f"  (allowed: {self.reason})" if self.reason else ""
        return f"{self.path}:{self.line}: {self.name} is {self.length} lines{excuse}"


def _signature_lines(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: Sequence[str]) -> str:
    """The source lines from ``def`` to the line before the body starts."""
    last = max(node.body[0].lineno - 1, node.lineno)
    return "\n".join(lines[node.lineno - 1 : last])


def _reason(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: Sequence[str]) -> str | None:
    """The justification written after the marker in the signature, if any."""
    signature = _signature_lines(node, lines)
    if MARKER not in signature:
        return None
    reason = signature.split(MARKER, 1)[1].partition("\n")[0].strip()
    return reason or None


def _qualified(path: Sequence[str]) -> str:
    return ".".join(path)


def long_functions_in(path: Path, limit: int = LIMIT) -> Iterator[LongFunction]:
    """Every function or method in one file longer than ``limit`` lines."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source, filename=str(path))

    def visit(node: ast.AST, scope: tuple[str, ...]) -> Iterator[LongFunction]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = (*scope, child.name)
                length = (child.end_lineno or child.lineno) - child.lineno + 1
                if length > limit:
                    reason = _reason(child, lines)
                    yield LongFunction(path, child.lineno, _qualified(name), length, reason)
                yield from visit(child, name)
            elif isinstance(child, ast.ClassDef):
                yield from visit(child, (*scope, child.name))
            else:
                yield from visit(child, scope)

    yield from visit(tree, ())


def _generated(path: Path) -> bool:
    """Alembic revision scripts are written by the tool, not read as code."""
    return "versions" in path.parts and "migrations" in path.parts


def python_files(roots: Sequence[str]) -> Iterator[Path]:
    """The ``.py`` files under each root (or the root itself), in a stable order."""
    for root in roots:
        base = Path(root)
        if base.is_file():
            yield base
        else:
            yield from sorted(p for p in base.rglob("*.py") if not _generated(p))


def main(argv: Sequence[str] | None = None) -> int:
    """Print each long function; 1 if any lacks a ``# long-function:`` reason."""
    roots = list(argv if argv is not None else sys.argv[1:]) or list(DEFAULT_PATHS)
    found = [fn for path in python_files(roots) for fn in long_functions_in(path)]
    for fn in found:
        print(fn.describe())
    unexcused = [fn for fn in found if fn.reason is None]
    if not unexcused:
        print(f"long functions: none over {LIMIT} lines without a reason ({len(found)} with one)")
    else:
        print(
            f"{len(unexcused)} function(s) over {LIMIT} lines: split them, or say why on the "
            f"def line with '{MARKER} <reason>'",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
