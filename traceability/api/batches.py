"""GET /batches/{code}: a processing batch with its devices, mass and savings."""

from __future__ import annotations

from flask import request

from traceability.accounts.services import REGULATOR_ROLES
from traceability.api.auth import current_principal
from traceability.app import current_trace, get_session
from traceability.catalog.models import Catalog
from traceability.errors import Forbidden, ValidationFailed
from traceability.register.log import register_region
from traceability.register.scope import readable_orgs
from traceability.reports.batches import batch_report, get_batch
from traceability.reports.devices import open_reader
from traceability.reports.schemas import BatchReport


def show(code: str) -> BatchReport:
    principal = current_principal()
    session = get_session()
    catalog: Catalog = current_trace().catalog
    org = request.args.get("org", principal.org_code)
    if org not in readable_orgs(session, principal, [org]):
        if principal.role not in REGULATOR_ROLES:
            raise Forbidden("you can only read your own organisation's batches", field="org")
        register_region(session, org)  # a 404 when no organisation has the code
        raise Forbidden(f"{org} is outside your region", field="org")
    factor_id = request.args.get("factors")
    factor_set = catalog.default_factor_set
    if factor_id is not None:
        if factor_id not in catalog.factor_sets:
            raise ValidationFailed(f"unknown factor set {factor_id}", field="factors")
        factor_set = catalog.factor_sets[factor_id]
    batch = get_batch(session, org, code)
    ledger = open_reader(session, current_trace().ledger)
    return batch_report(session, batch, factor_set, ledger=ledger, now=current_trace().now())
