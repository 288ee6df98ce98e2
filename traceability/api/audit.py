"""GET /audit/anomalies: the audit rules' findings, filtered and paged."""

from __future__ import annotations

from flask import current_app

from traceability.api.auth import current_principal
from traceability.api.paging import requested_paging, text_arg
from traceability.audit.listing import anomaly_page
from traceability.audit.schemas import AnomalyList
from traceability.audit.services import Filters
from traceability.db import get_session
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
        current_app,
        principal=current_principal(),
        period=period,
        filters=filters,
        page=paging.page,
        per_page=paging.per_page,
    )
