"""GET /ledger: the trust anchors, public, so anyone can check completeness."""

from __future__ import annotations

from traceability.anchoring.service import public_trust
from traceability.api.schemas import LedgerInfo
from traceability.app import current_trace, get_session
from traceability.verification.completeness import last_check


def ledger() -> LedgerInfo:
    """Chain id, genesis hash, registry, owner, accepted submitters, this plant's submitter."""
    return LedgerInfo.model_validate(
        {
            **public_trust(current_trace().ledger),
            "last_completeness_check": last_check(get_session()),
        }
    )
