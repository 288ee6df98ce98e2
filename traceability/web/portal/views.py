"""The region overview (/portal/) and the portal's error pages."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _

from traceability.app import current_service, current_trace, get_session
from traceability.audit.figures import signed_tonnes, tonnes
from traceability.audit.listing import app_ruleset, snapshot_for
from traceability.audit.overview import Overview, plant_matrix, region_overview
from traceability.audit.ruleset import SEVERITIES, RuleSet
from traceability.audit.snapshots import AuditPending, Snapshot, SnapshotCache
from traceability.db import iso
from traceability.errors import Forbidden, TraceabilityError, ValidationFailed
from traceability.periods import Period, quarter_of
from traceability.register.licensing import read_licences
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


def _snapshot(period: Period | None) -> Snapshot:
    return snapshot_for(get_session(), current_trace(), current_service(SnapshotCache), period)


def _previous(period: Period) -> tuple[Period, Snapshot | None]:
    """The quarter before ``period`` and its snapshot (None: not kept, or not computed yet)."""
    before = quarter_of(period.start - dt.timedelta(days=1))
    try:
        return before, _snapshot(before)
    except (AuditPending, ValidationFailed):
        return before, None


def overview() -> str:
    """The region overview (SPEC §2.7) of the plants the user may read."""
    scope = current_scope()
    period = requested_period()
    factor_set = current_trace().catalog.default_factor_set
    snapshot = _snapshot(period)
    plants = {o.code for o in scope.plants}
    region = region_overview(snapshot, plants=plants, orgs=scope.orgs, factor_set=factor_set)
    before, previous = _previous(period)
    matrix = plant_matrix(
        snapshot, previous, plants=region.figures, ruleset=app_ruleset(),
        licences=read_licences(get_session(), plants), period=period,
    )  # fmt: skip
    earlier = (
        region_overview(previous, plants=plants, orgs=scope.orgs, factor_set=factor_set)
        if previous is not None
        else None
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
        charts=_charts(region, earlier, period, before, app_ruleset(), scope.orgs),
        findings=region.findings,
        computed_at=iso(region.computed_at),
        close=closed_at(period),
        late=sum(f.late_corrections for f in region.figures.values()),
        late_mass_g=sum(f.late_mass_g for f in region.figures.values()),
        signed_tonnes=signed_tonnes,
        matrix=matrix,
        before=before,
        severities=SEVERITIES,
    )


def _charts(
    region: Overview, earlier: Overview | None, period: Period, before: Period,
    ruleset: RuleSet, orgs: dict[str, Any],
) -> str:  # fmt: skip
    """The overview's three charts, titled and named in the reader's language, each bar with
    the page it leads to."""
    months, counts = region.months, region.findings_by_rule
    plants = list(region.figures)
    rules = [r for r in ruleset.rules if counts[r.id]]
    series = [{"name": period.name, "data": [float(region.savings[p]["co2_t"]) for p in plants]}]
    if earlier is not None:
        series.insert(0, {"name": before.name, "data": [
            float(earlier.savings[p]["co2_t"]) if p in earlier.savings else 0 for p in plants
        ]})  # fmt: skip
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
            "plants": [orgs[p].name if p in orgs else p for p in plants],
            "series": series,
            "links": [url_for("portal.plant", plant=p, period=period.name) for p in plants],
            "title": _("CO₂ saved per plant (t), this quarter and the one before"),
        },
        anomalies={
            "rules": [r.title(current_language()) for r in rules],
            "data": [counts[r.id] for r in rules],
            "links": [url_for("portal.anomalies", period=period.name, rule=r.id) for r in rules],
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
