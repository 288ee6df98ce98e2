"""GET /audit/anomalies: the audit rules' findings, filtered and paged."""

from __future__ import annotations

from traceability.api.auth import current_principal
from traceability.api.paging import requested_paging, text_arg
from traceability.app import current_service, current_trace, get_session
from traceability.audit.listing import anomaly_page
from traceability.audit.schemas import AnomalyList
from traceability.audit.services import Filters
from traceability.audit.snapshots import SnapshotCache
from traceability.periods import parse_period


def anomalies() -> AnomalyList:
    paging = requested_paging()
    raw_period = text_arg("period", 16)
    period = parse_period(raw_period) if raw_period else None
    filters = Filters(
        plant=text_arg("plant", 32), rule=text_arg("rule"), severity=text_arg("severity")
    )
    return anomaly_page(
        get_session(),
        current_trace(),
        current_service(SnapshotCache),
        principal=current_principal(),
        period=period,
        filters=filters,
        page=paging.page,
        per_page=paging.per_page,
    )
