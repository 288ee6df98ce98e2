"""POST /anchors: anchor everything pending now."""

from __future__ import annotations

from traceability.accounts.models import OrgKind, Principal, Role
from traceability.anchoring.service import anchor_now
from traceability.api.auth import current_principal
from traceability.api.schemas import AnchorsResult
from traceability.app import current_trace
from traceability.errors import Forbidden


def may_force_anchoring(principal: Principal) -> bool:
    """A dismantler's managers (whose claims wait on anchors) and admins; nobody else.

    Forcing a run holds a web worker on the chain: collectors and processors
    have the background worker, on its interval (issue 15, finding 10).
    """
    return principal.role == Role.admin or (
        principal.role == Role.manager and principal.org_kind == OrgKind.dismantler
    )


def anchor() -> AnchorsResult:
    if not may_force_anchoring(current_principal()):
        raise Forbidden("only a dismantler's managers and admins anchor on demand", field="role")
    run = anchor_now(current_trace().engine, current_trace().ledger, from_request=True)
    last = run.last
    return AnchorsResult(
        anchored=run.events_anchored,
        batches=len(run.sent) + len(run.confirmed),
        root=last.root if last else None,
        tx_hash=last.tx_hash if last else None,
        block_number=last.block_number if last else None,
    )
