"""The region overview (/portal/) and the portal's error pages."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, render_template
from flask_babel import gettext as _

from traceability.app import current_service, current_trace, get_session
from traceability.audit.figures import signed_tonnes, tonnes
from traceability.audit.listing import app_ruleset, snapshot_for
from traceability.audit.overview import Overview, region_overview
from traceability.audit.ruleset import RuleSet
from traceability.audit.snapshots import AuditPending, SnapshotCache
from traceability.db import iso
from traceability.errors import Forbidden, TraceabilityError
from traceability.web.auth import browser_login_required, forbidden
from traceability.web.i18n import current_language
from traceability.web.portal.scope import (
    PORTAL_ROLES,
    closed_at,
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
    """The region overview (SPEC §2.7) of the plants the user may read."""
    scope = current_scope()
    period = requested_period()
    factor_set = current_trace().catalog.default_factor_set
    region = region_overview(
        snapshot_for(get_session(), current_trace(), current_service(SnapshotCache), period),
        plants={o.code for o in scope.plants},
        orgs=scope.orgs,
        factor_set=factor_set,
    )
    return render_template(
        "portal/overview.html",
        scope=scope,
        period=period,
        quarters=recent_quarters(current_trace().now()),
        figures=region.figures,
        savings=region.savings,
        categories=region.categories,
        category_name=category_name,
        tonnes=tonnes,
        factor_set=factor_set,
        charts=_charts(region, app_ruleset()),
        findings=region.findings,
        computed_at=iso(region.computed_at),
        close=closed_at(period),
        late=sum(f.late_corrections for f in region.figures.values()),
        late_mass_g=sum(f.late_mass_g for f in region.figures.values()),
        signed_tonnes=signed_tonnes,
    )


def _charts(region: Overview, ruleset: RuleSet) -> str:
    """The overview's three charts, titled and named in the reader's language."""
    months, counts = region.months, region.findings_by_rule
    return chart_data(
        volumes={
            "months": list(months),
            "series": [
                {"name": category_name(c), "data": [months[m][c] for m in months]}
                for c in region.month_categories
            ],
            "title": _("Devices dismantled per month, by category"),
        },
        savings={
            "plants": list(region.figures),
            "data": [float(region.savings[p]["co2_t"]) for p in region.figures],
            "title": _("CO₂ saved per plant (t)"),
        },
        anomalies={
            "rules": [r.title(current_language()) for r in ruleset.rules if counts[r.id]],
            "data": [counts[r.id] for r in ruleset.rules if counts[r.id]],
            "title": _("Audit findings by rule"),
        },
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
