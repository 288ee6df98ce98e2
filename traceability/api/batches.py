"""GET /batches/{code}: a processing batch with its devices, mass and savings."""

from __future__ import annotations

from flask import current_app, request

from traceability.accounts.services import REGULATOR_ROLES, can_read_region
from traceability.api.auth import current_principal
from traceability.catalog.models import Catalog
from traceability.db import get_session
from traceability.errors import Forbidden, ValidationFailed
from traceability.register.log import register_region
from traceability.reports.batches import batch_report, get_batch
from traceability.reports.devices import open_reader
from traceability.reports.schemas import BatchReport


def show(code: str) -> BatchReport:
    principal = current_principal()
    session = get_session()
    catalog: Catalog = current_app.extensions["trace.catalog"]
    org = request.args.get("org", principal.org_code)
    if org != principal.org_code:
        if principal.role not in REGULATOR_ROLES:
            raise Forbidden("you can only read your own organisation's batches", field="org")
        if not can_read_region(principal, register_region(session, org)):
            raise Forbidden(f"{org} is outside your region", field="org")
    factor_id = request.args.get("factors")
    factor_set = catalog.default_factor_set
    if factor_id is not None:
        if factor_id not in catalog.factor_sets:
            raise ValidationFailed(f"unknown factor set {factor_id}", field="factors")
        factor_set = catalog.factor_sets[factor_id]
    batch = get_batch(session, org, code)
    return batch_report(session, batch, factor_set, ledger=open_reader(session))
