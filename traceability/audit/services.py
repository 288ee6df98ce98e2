"""Running the audit rules over a period, and listing what they found for one reader.

``run_audit`` applies every rule to the records replayed from the event log;
``list_anomalies`` scopes the result to what the reader may see (an
auditor: every organisation of the regulator's region; a manager: their own
organisation), filters it and pages it. A finding belongs to the period in
which what it reports happened.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from traceability.accounts.models import Principal, Role
from traceability.anchoring.trust import TrustedLedger
from traceability.audit import (
    device_rules,
    floor_rules,
    intake_rules,
    licence_rules,
    manifest_rules,
    plant_rules,
)
from traceability.audit.dataset import AuditData, load_audit_data
from traceability.audit.findings import Finding
from traceability.audit.operations import Operations
from traceability.audit.ruleset import SEVERITIES, RuleSet, Thresholds
from traceability.catalog.models import Catalog
from traceability.custody.models import Event
from traceability.db import utcnow
from traceability.errors import Forbidden, ValidationFailed
from traceability.periods import Period

Rule = Callable[[AuditData, Thresholds], Iterable[Finding]]

RULES: dict[str, Rule] = {
    "verification_failed": device_rules.verification_failed,
    "import_refused": device_rules.import_refused,
    "mass_balance": device_rules.mass_balance,
    "resource_rate": device_rules.resource_rate,
    "irregular_dismantling": device_rules.irregular_dismantling,
    "output_share_outlier": plant_rules.output_share_outlier,
    "fraction_share_band": plant_rules.fraction_share_band,
    "stock_reconciliation": plant_rules.stock_reconciliation,
    "hazardous_lot_unconfirmed": device_rules.hazardous_lot_unconfirmed,
    "capacity_exceeded": licence_rules.capacity_exceeded,
    "unlicensed_category": licence_rules.unlicensed_category,
    "fast_dismantling": floor_rules.fast_dismantling,
    "leakage": device_rules.leakage,
    "duplicate_serial": device_rules.duplicate_serial,
    "backdating": device_rules.backdating,
    "correction": device_rules.correction,
    "weight_drop": intake_rules.weight_drop,
    "underweight_unit": intake_rules.underweight_unit,
    "repeated_refusals": intake_rules.repeated_refusals,
    "refused_elsewhere": intake_rules.refused_elsewhere,
    "tier_upcoding": floor_rules.tier_upcoding,
    "hazardous_not_shipped": floor_rules.hazardous_not_shipped,
    "outside_working_hours": floor_rules.outside_working_hours,
    "snapshot_in_the_future": plant_rules.snapshot_in_the_future,
    "lot_weight_mismatch": manifest_rules.lot_weight_mismatch,
    "stocktake_mismatch": manifest_rules.stocktake_mismatch,
}

_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def named(finding: Finding, data: AuditData) -> Finding:
    """The finding naming when its device was dismantled and the claims holding its devices."""
    record = data.devices.get(finding.subject)
    if record is None and len(finding.devices) == 1:
        record = data.devices.get(finding.devices[0])
    dismantled = record.facts.dismantled_at if record is not None else None
    claims = sorted({c for d in finding.devices for c in data.claims.get(d, ())})
    if dismantled is None and not claims:
        return finding
    return dataclasses.replace(finding, dismantled_at=dismantled, claims=tuple(claims))


def apply_rules(data: AuditData, ruleset: RuleSet) -> list[Finding]:
    """Every rule of the rule set over ``data``, worst first: the findings of what happened
    in its period, and those of devices dismantled in it (a correction recorded after the
    period closed is that period's finding too, SPEC §2.7)."""
    found: list[Finding] = []
    for spec in ruleset.rules:
        for f in RULES[spec.id](data, ruleset.thresholds):
            f = named(f, data)
            if data.in_period(f.at) or data.in_period(f.dismantled_at):
                found.append(f)
    specs = {r.id: r for r in ruleset.rules}
    found.sort(key=lambda f: (_RANK[f.severity_of(specs[f.rule])], f.rule, f.org, f.at, f.subject))
    return found


@dataclass(frozen=True)
class Audit:
    """The findings of one run: over ``[since, as_of)``, against the log up to ``last_seq``."""

    since: dt.datetime | None
    as_of: dt.datetime
    findings: tuple[Finding, ...]
    last_seq: int
    data: AuditData  # what the rules read (the refresher derives the figures from it)
    computed_at: dt.datetime  # when the log was read


def run_audit(
    session: Session,
    *,
    ledger: TrustedLedger,
    catalog: Catalog,
    ruleset: RuleSet,
    period: Period | None,
    now: dt.datetime,
    operations: Operations | None = None,
) -> Audit:
    """Every finding of ``period`` (None: everything so far), as of its close or now.

    Reads and verifies the whole log: the refresher (``audit.refresh``) calls
    the same steps off the request path; no web request calls this.
    """
    started = utcnow()
    as_of = min(period.end, now) if period else now
    since = period.start if period else None
    seq = session.execute(select(func.max(Event.seq))).scalar() or 0
    data = load_audit_data(
        session, ledger, catalog, as_of=as_of, since=since, operations=operations
    )
    return Audit(since, as_of, tuple(apply_rules(data, ruleset)), int(seq), data, started)


# -- who sees what ------------------------------------------------------------


def check_reader(principal: Principal) -> None:
    """Managers, auditors and admins read findings (of ``register.scope.readable_orgs``)."""
    if principal.role == Role.operator:
        raise Forbidden("operators have no access to the audit findings")


@dataclass(frozen=True)
class Filters:
    plant: str | None = None
    rule: str | None = None
    severity: str | None = None


def check_filters(filters: Filters, ruleset: RuleSet) -> None:
    if filters.rule is not None and filters.rule not in ruleset.ids:
        raise ValidationFailed(f"unknown rule {filters.rule[:40]!r}", field="rule")
    if filters.severity is not None and filters.severity not in SEVERITIES:
        raise ValidationFailed(f"severity must be one of {', '.join(SEVERITIES)}", field="severity")


def select_findings(
    findings: Sequence[Finding], ruleset: RuleSet, orgs: AbstractSet[str], filters: Filters
) -> Iterator[Finding]:
    specs = {r.id: r for r in ruleset.rules}
    for f in findings:
        if f.org not in orgs:
            continue
        if filters.plant is not None and f.org != filters.plant:
            continue
        if filters.rule is not None and f.rule != filters.rule:
            continue
        if filters.severity is not None and f.severity_of(specs[f.rule]) != filters.severity:
            continue
        yield f
