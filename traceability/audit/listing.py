"""The anomaly list as readers get it (API, portal): scoped, filtered, paged, in two languages."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask
from sqlmodel import Session

from traceability.accounts.models import Principal
from traceability.audit.figures import Months, PlantFigures, monthly_volumes, plant_figures
from traceability.audit.findings import Finding
from traceability.audit.periods import Period
from traceability.audit.ruleset import RuleSet, load_ruleset
from traceability.audit.schemas import AnomalyList, AnomalyPublic, RuleInfo
from traceability.audit.services import (
    Audit,
    AuditCache,
    Filters,
    check_filters,
    readable_orgs,
    run_audit,
    select_findings,
)
from traceability.db import iso, utcnow
from traceability.errors import Forbidden
from traceability.reports.devices import open_reader


def app_ruleset(app: Flask) -> RuleSet:
    return load_ruleset()


def audit_for(session: Session, app: Flask, period: Period | None) -> Audit:
    """The findings of ``period`` for this app's database and ledger (cached per log state)."""
    ttl = app.config["TRACE_SETTINGS"].audit_cache_s
    cache = app.extensions.setdefault("trace.audit_cache", AuditCache(ttl_s=ttl))
    ledger, problem = open_reader(session)
    return run_audit(
        session,
        ledger=ledger,
        catalog=app.extensions["trace.catalog"],
        ruleset=app_ruleset(app),
        period=period,
        now=utcnow(),
        ledger_problem=problem,
        cache=cache,
    )


def figures_of(audit: Audit) -> tuple[dict[str, PlantFigures], dict[str, Months]]:
    """Every plant's figures and monthly volumes for the audit's period, computed once per run."""
    if "figures" not in audit.memo:
        plants = {code for code, org in audit.data.orgs.items() if org.kind == "dismantler"}
        audit.memo["figures"] = (
            plant_figures(audit.data, plants),
            monthly_volumes(audit.data, plants),
        )
    figures: tuple[dict[str, PlantFigures], dict[str, Months]] = audit.memo["figures"]
    return figures


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
    )


def scoped_findings(
    session: Session,
    app: Flask,
    *,
    principal: Principal,
    period: Period | None,
    filters: Filters,
) -> tuple[Audit, list[Finding]]:
    """The findings ``principal`` may read, filtered; a plant outside their scope is a 403."""
    ruleset = app_ruleset(app)
    check_filters(filters, ruleset)
    orgs = readable_orgs(session, principal)
    if filters.plant is not None and filters.plant not in orgs:
        raise Forbidden(f"{filters.plant} is outside the records you may read", field="plant")
    audit = audit_for(session, app, period)
    return audit, list(select_findings(audit.findings, ruleset, orgs, filters))


def anomaly_page(
    session: Session,
    app: Flask,
    *,
    principal: Principal,
    period: Period | None,
    filters: Filters,
    page: int,
    per_page: int,
) -> AnomalyList:
    audit, found = scoped_findings(
        session, app, principal=principal, period=period, filters=filters
    )
    ruleset = app_ruleset(app)
    chunk: Sequence[Finding] = found[(page - 1) * per_page : page * per_page]
    return AnomalyList(
        period=period.name if period else None,
        since=iso(audit.since) if audit.since else None,
        as_of=iso(audit.as_of),
        total=len(found),
        page=page,
        per_page=per_page,
        items=[anomaly_public(f, ruleset) for f in chunk],
        rules=rule_infos(ruleset),
        ruleset=ruleset.version,
    )
