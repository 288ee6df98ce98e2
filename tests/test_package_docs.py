"""Each package's docstring is a newcomer's guide: its examples run, its ``__all__`` exists.

``help(ledger)`` says how to verify a bundle; the doctests in the package
docstrings are run here so an example that stops being true fails.
"""

from __future__ import annotations

import doctest
import importlib

import pytest

PACKAGES = [
    "ledger",
    *(
        f"traceability.{name}"
        for name in (
            "accounts", "anchoring", "audit", "catalog", "claims", "custody", "devices",
            "epcis", "labels", "lots", "register", "reports", "savings", "verification",
        )
    ),
]  # fmt: skip


@pytest.mark.parametrize("name", PACKAGES)
def test_every_name_in_all_is_importable_from_the_package(name: str) -> None:
    package = importlib.import_module(name)
    for public in package.__all__:
        if not hasattr(package, public):
            importlib.import_module(f"{name}.{public}")  # a submodule: raises if missing


@pytest.mark.parametrize("name", PACKAGES)
def test_the_package_docstring_gives_an_example(name: str) -> None:
    doc = importlib.import_module(name).__doc__ or ""
    assert ">>>" in doc or "::\n" in doc, f"{name}: no example"


@pytest.mark.parametrize("name", PACKAGES)
def test_the_docstring_examples_run(name: str) -> None:
    package = importlib.import_module(name)
    result = doctest.testmod(package, raise_on_error=False, verbose=False)
    assert result.failed == 0
    assert result.attempted > 0 or ">>>" not in (package.__doc__ or "")


def test_help_on_ledger_says_how_to_verify_a_bundle() -> None:
    import ledger

    assert "python -m ledger.verify bundle.json" in (ledger.__doc__ or "")
