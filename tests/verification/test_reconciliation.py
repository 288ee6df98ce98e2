"""What `traceability verify --all` concludes from its findings (printing is the CLI's)."""

from __future__ import annotations

from collections import Counter

import pytest

from traceability.verification.reconciliation import AnchorAudit, FullReport


def clean() -> FullReport:
    return FullReport(
        counts=Counter(verified=3), anchors=[AnchorAudit(submitter="0xA", on_chain=1)]
    )


def test_every_event_verified_and_every_anchor_present_is_all_verified() -> None:
    assert clean().ok


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"counts": Counter(verified=3, pending=1)}, "an event is not anchored yet"),
        ({"counts": Counter(verified=2, tampered=1)}, "an event was tampered with"),
        ({"trust_problem": "registry mismatch"}, "the ledger is not the trusted one"),
        ({"anchors_unlisted": "no trusted registry"}, "the anchors could not be listed"),
        (
            {"anchors": [AnchorAudit(submitter="0xA", on_chain=2, missing_batches=["ab"])]},
            "an anchored batch is missing from the database",
        ),
        (
            {"anchors": [AnchorAudit(submitter="0xA", on_chain=1, missing_events={"ab": 1})]},
            "an anchored event is missing from the database",
        ),
    ],
)
def test_anything_amiss_is_not_verified(change: dict[str, object], why: str) -> None:
    report = clean()
    for name, value in change.items():
        setattr(report, name, value)
    assert not report.ok, why
