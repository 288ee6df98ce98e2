"""The regulator and manager portal at /portal (SPEC §4.4).

Auditors (and admins) of a regulator see every organisation of its region;
a manager sees their own organisation; operators have no portal. Every
figure comes from the replayed, verified event log (``traceability.audit``).
"""

from __future__ import annotations

from flask import Blueprint

from traceability.web.portal import (
    admin,
    anomalies,
    cases,
    claims,
    devices,
    evidence,
    ledger,
    lots,
    plants,
    views,
)
from traceability.web.portal.words import field_name

bp = Blueprint("portal", __name__, url_prefix="/portal", template_folder="../templates")
for module in (views, plants, devices, evidence, lots, anomalies, cases, ledger, claims, admin):
    module.register(bp)
bp.add_app_template_filter(field_name, "field_name")
