"""A ledger error becomes the problem of its kind, and the problem's text is the error's words
(SPEC §3, trust anchors)."""

from __future__ import annotations

import pytest

from ledger.errors import (
    ChainMismatch,
    ContractMissing,
    LedgerError,
    LedgerUnavailable,
    TrustMismatch,
    TrustMissing,
)
from traceability.anchoring.trust import LedgerProblem, ProblemKind, TrustedLedger


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ChainMismatch("the chain at http://n is not the trusted one"), ProblemKind.CHAIN_RESET),
        (ContractMissing("no AnchorRegistry code"), ProblemKind.REGISTRY_MISSING),
        (TrustMissing("no trust anchors"), ProblemKind.TRUST_MISSING),
        (TrustMismatch("owned by another"), ProblemKind.UNTRUSTED),
        (LedgerUnavailable("connection refused"), ProblemKind.UNAVAILABLE),
        (LedgerError("another process is setting up the ledger"), ProblemKind.UNAVAILABLE),
    ],
)
def test_each_ledger_error_is_the_problem_of_its_kind(
    error: LedgerError, kind: ProblemKind
) -> None:
    problem = LedgerProblem.from_error(error)
    assert problem.kind is kind
    expected = f"ledger unavailable: {error}" if kind is ProblemKind.UNAVAILABLE else str(error)
    assert problem.text == expected


def test_only_a_lost_chain_is_a_reset_whatever_the_words_say() -> None:
    worded = TrustedLedger(problems=(LedgerProblem(ProblemKind.TRUST_MISSING, "/srv/reset/x"),))
    assert not worded.is_reset
    lost = TrustedLedger(problems=(LedgerProblem(ProblemKind.REGISTRY_MISSING, "no code"),))
    assert lost.is_reset


def test_no_ledger_has_no_problem_and_reads_no_chain() -> None:
    off = TrustedLedger.off()
    assert off.problem is None and off.chain is None and not off.is_unavailable
