"""What a handheld keeps to check steps offline: GET /shipments/incoming (what is on its
way to the caller's plant, by shipment) and GET /custody (the devices it holds)."""

from __future__ import annotations

from traceability.accounts.models import OrgKind
from traceability.api.auth import current_principal
from traceability.app import current_trace, get_session
from traceability.errors import Forbidden
from traceability.reports.custody import CustodyList, custody_list
from traceability.reports.incoming import IncomingShipments, incoming_shipments


def incoming() -> IncomingShipments:
    principal = current_principal()
    if principal.org_kind != OrgKind.dismantler:
        raise Forbidden("only a dismantling plant receives devices", field="org")
    return incoming_shipments(get_session(), principal.org_code, now=current_trace().now())


def custody() -> CustodyList:
    principal = current_principal()
    return custody_list(get_session(), principal.org_code, now=current_trace().now())
