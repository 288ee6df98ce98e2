"""The audit's data files, read once when the app starts: a malformed one stops the start
naming the file and the key (``datafiles.DataFileError``), not the first audit pass."""

from __future__ import annotations

from traceability.audit.operations import operations_of
from traceability.audit.ruleset import load_ruleset
from traceability.config import Settings


def check_audit_files(settings: Settings) -> None:
    """Load the rule set and the plants' operations (cached after); the unit-weight and
    share bands are the catalogue's (``catalog/data/bands.toml``), loaded with it."""
    load_ruleset()
    operations_of(settings)
