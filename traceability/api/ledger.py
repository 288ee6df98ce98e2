"""GET /ledger: the trust anchors, public, so anyone can check completeness.

GET /ledger/batches/{root}: one anchored batch as this deployment holds it (its leaves and
the records at them), so the regulator's instance can account for every anchored leaf.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from traceability.anchoring.service import public_trust
from traceability.api.auth import current_principal
from traceability.api.schemas import LedgerInfo
from traceability.app import current_trace, get_session
from traceability.epcis.batches import anchored_batch
from traceability.reports.schemas import Out
from traceability.verification.completeness import last_check


class AnchoredBatchPublic(Out):
    """An anchored batch: ``leaves`` the digests in leaf order (hex); ``records`` each held
    record at its leaf (``leafIndex``, ``trace:record``, ``trace:digest``, ``trace:prev``)."""

    root: str
    size: int
    state: str
    leaves: list[str]
    records: list[dict[str, Any]] = Field(default_factory=list)


def ledger() -> LedgerInfo:
    """Chain id, genesis hash, registry, owner, accepted submitters, this plant's submitter."""
    return LedgerInfo.model_validate(
        {
            **public_trust(current_trace().ledger),
            "last_completeness_check": last_check(get_session()),
        }
    )


def batch(root: str) -> AnchoredBatchPublic:
    published = anchored_batch(get_session(), current_principal(), root)
    return AnchoredBatchPublic(
        root=published.root,
        size=published.size,
        state=published.state,
        leaves=published.leaves,
        records=published.records,
    )
