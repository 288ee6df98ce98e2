"""The region overview (/portal/) and the portal's error pages."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from flask import Blueprint, render_template
from flask_babel import gettext as _

from traceability.app import current_service, current_trace, get_session
from traceability.audit.figures import merge_months, tonnes
from traceability.audit.listing import app_ruleset, snapshot_for
from traceability.audit.snapshots import AuditPending, SnapshotCache
from traceability.db import iso
from traceability.errors import Forbidden, TraceabilityError
from traceability.web.auth import browser_login_required, forbidden
from traceability.web.i18n import current_language
from traceability.web.portal.scope import (
    PORTAL_ROLES,
    current_scope,
    recent_quarters,
    requested_period,
)


def category_name(code: str) -> str:
    category = current_trace().catalog.categories.get(code)
    if category is None:
        return code
    return category.zh if current_language() == "zh-CN" else category.en


def chart_data(**charts: Any) -> str:
    """Chart data for the page's script, as JSON in a data block (no inline script: CSP)."""
    text = json.dumps({"lang": current_language(), **charts}, ensure_ascii=False, default=str)
    return text.replace("</", "<\\/")  # never ends the data block early


def overview() -> str:
    scope = current_scope()
    period = requested_period()
    audit = snapshot_for(get_session(), current_trace(), current_service(SnapshotCache), period)
    plants = {o.code for o in scope.plants}
    every_plant, per_plant_months = audit.figures.plants, audit.figures.months
    figures = {p: every_plant[p] for p in sorted(plants) if p in every_plant}
    factor_set = current_trace().catalog.default_factor_set
    savings = {p: f.savings(factor_set) for p, f in figures.items()}
    categories: dict[str, Counter[str]] = {}
    for fig in figures.values():
        for code, cat in fig.categories.items():
            row = categories.setdefault(code, Counter())
            row.update(
                received=cat.received, dismantled=cat.dismantled, in_stock=cat.in_stock,
                mass_g=cat.mass_g,
            )  # fmt: skip
    months = merge_months(per_plant_months, plants)
    month_categories = sorted({c for m in months.values() for c in m})
    ruleset = app_ruleset()
    counts = Counter(f.rule for f in audit.findings if f.org in scope.orgs)
    charts = chart_data(
        volumes={
            "months": list(months),
            "series": [
                {"name": category_name(c), "data": [months[m][c] for m in months]}
                for c in month_categories
            ],
            "title": _("Devices dismantled per month, by category"),
        },
        savings={
            "plants": list(figures),
            "data": [float(savings[p]["co2_t"]) for p in figures],
            "title": _("CO₂ saved per plant (t)"),
        },
        anomalies={
            "rules": [r.title(current_language()) for r in ruleset.rules if counts[r.id]],
            "data": [counts[r.id] for r in ruleset.rules if counts[r.id]],
            "title": _("Audit findings by rule"),
        },
    )
    return render_template(
        "portal/overview.html",
        scope=scope,
        period=period,
        quarters=recent_quarters(current_trace().now()),
        figures=figures,
        savings=savings,
        categories=sorted(categories.items(), key=lambda kv: -kv[1]["dismantled"]),
        category_name=category_name,
        tonnes=tonnes,
        factor_set=factor_set,
        charts=charts,
        findings=sum(counts.values()),
        computed_at=iso(audit.computed_at),
    )


def _error(exc: TraceabilityError) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    if isinstance(exc, Forbidden):
        return forbidden()
    if isinstance(exc, AuditPending):  # the refresher has not made this period's snapshot yet
        after = str(exc.data["retry_after"])
        page = render_template(
            "portal/pending.html",
            period=exc.data["period"],
            after=after,
            recomputing=exc.data.get("recomputing", False),
        )
        return page, exc.status, {"Retry-After": after}
    return render_template("portal/error.html", error=exc), exc.status


def register(bp: Blueprint) -> None:
    guard = browser_login_required(roles=PORTAL_ROLES)
    bp.add_url_rule("/", "index", guard(overview))
    bp.register_error_handler(TraceabilityError, _error)
