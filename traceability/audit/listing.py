"""The anomaly list as readers get it (API, portal): scoped, filtered, paged, in two languages."""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet

from sqlmodel import Session

from traceability.accounts.models import Principal
from traceability.audit.findings import Finding
from traceability.audit.logstate import seal_key
from traceability.audit.refresh import kept_periods
from traceability.audit.ruleset import RuleSet, load_ruleset
from traceability.audit.schemas import AnomalyList, AnomalyPublic, RegisterMismatch, RuleInfo
from traceability.audit.services import Filters, check_filters, check_reader, select_findings
from traceability.audit.snapshots import ALL, AuditPending, Rejected, Snapshot, SnapshotCache
from traceability.context import Trace
from traceability.db import iso
from traceability.errors import Forbidden, ValidationFailed
from traceability.periods import Period
from traceability.register.log import PROJECTION_MISMATCH, ROW_FACTS, register_of
from traceability.register.scope import readable_orgs

#: Seconds a reader is asked to wait for a snapshot being computed.
RETRY_AFTER_S = 30


def app_ruleset() -> RuleSet:
    return load_ruleset()


def snapshot_for(
    session: Session, trace: Trace, cache: SnapshotCache, period: Period | None
) -> Snapshot:
    """The newest snapshot of ``period`` (None: everything so far); never computed here.

    None yet, or one that is not what it says (``audit.logstate``): ``AuditPending``
    (the refresher is on it); a period the
    refresher does not keep: a 422 naming the periods it does. ``cache``: this
    process's decoded snapshots (one per app).
    """
    name = period.name if period else ALL
    key = seal_key(trace.secret_key)
    snapshot = cache.read(session, name, key=key, now=trace.now())
    if isinstance(snapshot, Snapshot):
        return snapshot
    if isinstance(snapshot, Rejected):  # not what it says: never shown; the refresher redoes it
        raise AuditPending(
            f"the audit of {name} is being recomputed; ask again in {RETRY_AFTER_S} s",
            period=name,
            retry_after=RETRY_AFTER_S,
            recomputing=True,
        )
    kept = kept_periods(trace.now(), trace.settings.audit_closed_quarters)
    if name not in kept:
        raise ValidationFailed(
            f"audit findings are kept for {', '.join(p for p in kept if p != ALL)} "
            f"(and without a period, everything so far), not {name}",
            field="period",
        )
    raise AuditPending(
        f"the audit of {name} is being computed; ask again in {RETRY_AFTER_S} s",
        period=name,
        retry_after=RETRY_AFTER_S,
    )


def rule_infos(ruleset: RuleSet) -> list[RuleInfo]:
    return [
        RuleInfo(
            id=r.id,
            severity=r.severity,
            title_zh=r.zh,
            title_en=r.en,
            explanation_zh=r.explain_zh,
            explanation_en=r.explain_en,
        )
        for r in ruleset.rules
    ]


def anomaly_public(finding: Finding, ruleset: RuleSet) -> AnomalyPublic:
    spec = ruleset.rule(finding.rule)
    return AnomalyPublic(
        rule=finding.rule,
        severity=finding.severity_of(spec),
        org=finding.org,
        at=iso(finding.at),
        subject=finding.subject,
        title_zh=spec.zh,
        title_en=spec.en,
        detail_zh=finding.detail(spec, "zh"),
        detail_en=finding.detail(spec, "en"),
        events=list(finding.events),
        devices=list(finding.devices),
        verified=finding.verified,
        dismantled_in=finding.dismantled_in,
        claims=list(finding.claims),
    )


def scoped_findings(
    session: Session,
    trace: Trace,
    cache: SnapshotCache,
    *,
    principal: Principal,
    period: Period | None,
    filters: Filters,
) -> tuple[Snapshot, list[Finding]]:
    """The findings ``principal`` may read, filtered; a plant outside their scope is a 403."""
    ruleset = app_ruleset()
    check_filters(filters, ruleset)
    check_reader(principal)
    orgs = readable_orgs(session, principal)
    if filters.plant is not None and filters.plant not in orgs:
        raise Forbidden(f"{filters.plant} is outside the records you may read", field="plant")
    snapshot = snapshot_for(session, trace, cache, period)
    return snapshot, list(select_findings(snapshot.findings, ruleset, orgs, filters))


def anomaly_page(
    session: Session,
    trace: Trace,
    cache: SnapshotCache,
    *,
    principal: Principal,
    period: Period | None,
    filters: Filters,
    page: int,
    per_page: int,
) -> AnomalyList:
    snapshot, found = scoped_findings(
        session, trace, cache, principal=principal, period=period, filters=filters
    )
    ruleset = app_ruleset()
    chunk: Sequence[Finding] = found[(page - 1) * per_page : page * per_page]
    return AnomalyList(
        period=period.name if period else None,
        since=iso(snapshot.since) if snapshot.since else None,
        as_of=iso(snapshot.as_of),
        computed_at=iso(snapshot.computed_at),
        total=len(found),
        page=page,
        per_page=per_page,
        items=[anomaly_public(f, ruleset) for f in chunk],
        rules=rule_infos(ruleset),
        ruleset=ruleset.version,
        projection_mismatches=register_mismatches(session, readable_orgs(session, principal)),
    )


def register_mismatches(session: Session, orgs: AbstractSet[str]) -> list[RegisterMismatch]:
    """The readable organisations whose register row disagrees with its events (SPEC §2.8)."""
    return [
        RegisterMismatch(
            code=code,
            status=PROJECTION_MISMATCH,
            fields=list(facts.mismatch),
            row=dict(facts.row or {}),
            events={f: getattr(facts, f) for f in facts.mismatch if f in ROW_FACTS},
        )
        for code, facts in register_of(session, orgs).items()
        if facts.mismatch
    ]
