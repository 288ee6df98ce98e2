"""POST /anchors: anchor everything pending now."""

from __future__ import annotations

from traceability.anchoring.service import anchor_now
from traceability.api.schemas import AnchorsResult


def anchor() -> AnchorsResult:
    run = anchor_now(from_request=True)
    last = run.last
    return AnchorsResult(
        anchored=run.events_anchored,
        batches=len(run.sent) + len(run.confirmed),
        root=last.root if last else None,
        tx_hash=last.tx_hash if last else None,
        block_number=last.block_number if last else None,
    )
