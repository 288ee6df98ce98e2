"""The long-function check that `make lint` runs (issue 16: no function over 60 lines)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.long_functions import LIMIT, long_functions_in, main

ROOT = Path(__file__).parents[1]


def function(name: str, lines: int, def_line: str | None = None) -> str:
    """Source of a function ``lines`` long, def line included."""
    head = def_line or f"def {name}() -> None:"
    return head + "\n" + "    x = 1\n" * (lines - 1)


def test_a_function_one_line_over_the_limit_is_listed_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "mod.py"
    source.write_text(function("fits", LIMIT) + "\n" + function("over", LIMIT + 1))
    [found] = long_functions_in(source)
    assert (found.name, found.length, found.reason) == ("over", LIMIT + 1, None)
    assert main([str(tmp_path)]) == 1
    assert "mod.py:" in capsys.readouterr().out


def test_methods_and_nested_functions_are_measured_under_their_qualified_names(
    tmp_path: Path,
) -> None:
    inner = "\n".join("    " + line for line in function("inner", LIMIT + 2).splitlines())
    source = tmp_path / "mod.py"
    source.write_text("class Box:\n" + inner + "\n")
    assert [(f.name, f.length) for f in long_functions_in(source)] == [("Box.inner", LIMIT + 2)]


def test_a_reason_on_the_signature_allows_a_long_function(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text(
        function("form", LIMIT + 5, "def form(\n    a: int,\n) -> None:  # long-function: one form")
    )
    [found] = long_functions_in(source)
    assert found.reason == "one form"
    assert main([str(tmp_path)]) == 0


def test_an_empty_reason_is_no_reason(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text(function("form", LIMIT + 1, "def form() -> None:  # long-function:"))
    assert main([str(source)]) == 1


def test_the_application_and_the_ledger_have_no_unexcused_long_function() -> None:
    assert main([str(ROOT / "traceability"), str(ROOT / "ledger")]) == 0
