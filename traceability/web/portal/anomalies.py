"""The anomaly list with filters, and its CSV/XLSX export."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, g, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from traceability.app import current_service, current_trace, get_session
from traceability.audit.listing import anomaly_public, app_ruleset, scoped_findings
from traceability.audit.ruleset import SEVERITIES
from traceability.audit.services import Filters
from traceability.audit.snapshots import SnapshotCache
from traceability.db import iso
from traceability.periods import Period
from traceability.web.auth import browser_login_required
from traceability.web.i18n import current_language
from traceability.web.portal.exports import table_response
from traceability.web.portal.scope import (
    PORTAL_ROLES,
    current_scope,
    recent_quarters,
    requested_paging,
    requested_period,
)

PER_PAGE = 50
#: Rules whose finding's subject is an output lot (linked to its page).
LOT_RULES = frozenset({"hazardous_lot_unconfirmed", "lot_weight_mismatch", "stocktake_mismatch"})


def _arg(name: str) -> str | None:
    value = request.args.get(name) or None
    return value[:64] if value else None


def _found() -> tuple[Period, Filters, list[Any], dt.datetime]:
    period = requested_period()
    filters = Filters(plant=_arg("plant"), rule=_arg("rule"), severity=_arg("severity"))
    snapshot, found = scoped_findings(
        get_session(),
        current_trace(),
        current_service(SnapshotCache),
        principal=g.principal,
        period=period,
        filters=filters,
    )
    return period, filters, found, snapshot.computed_at


def anomaly_list() -> str:
    paging = requested_paging(PER_PAGE)
    period, filters, found, computed_at = _found()
    pages = paging.pages(len(found))
    ruleset = app_ruleset()
    return render_template(
        "portal/anomalies.html",
        period=period,
        filters=filters,
        items=[anomaly_public(f, ruleset) for f in paging.window(found)],
        computed_at=iso(computed_at),
        total=len(found),
        page=min(paging.page, pages),
        pages=pages,
        rules=app_ruleset().rules,
        severities=SEVERITIES,
        plants=current_scope().orgs,
        zh=current_language() == "zh-CN",
        quarters=recent_quarters(current_trace().now()),
        lot_rules=LOT_RULES,
    )


def anomaly_export(fmt: str) -> Response:
    period, _filters, found, _computed = _found()
    ruleset = app_ruleset()
    items = [anomaly_public(f, ruleset) for f in found]
    zh = current_language() == "zh-CN"
    header = [_("Severity"), _("Rule"), _("Organisation"), _("When (Beijing time, UTC+8)"),
              _("Subject"), _("Detail"), _("Verified"), _("Devices"), _("Events"),
              _("Dismantled in"), _("Claims")]  # fmt: skip
    rows = [
        [
            _(i.severity),  # the word, as the list shows it (portal/words.py)
            i.title_zh if zh else i.title_en,
            i.org,
            f.at,  # a date-time cell in Beijing time (exports.table_response)
            i.subject,
            i.detail_zh if zh else i.detail_en,
            _("yes") if i.verified else _("no"),
            " ".join(i.devices),
            " ".join(i.events),
            i.dismantled_in or "",
            " ".join(i.claims),
        ]
        for f, i in zip(found, items, strict=True)
    ]
    return table_response(f"anomalies-{period.name}", fmt, header, rows)


def register(bp: Blueprint) -> None:
    guard = browser_login_required(roles=PORTAL_ROLES)
    bp.add_url_rule("/anomalies", "anomalies", guard(anomaly_list))
    bp.add_url_rule("/anomalies.<any(csv, xlsx):fmt>", "anomalies_export", guard(anomaly_export))
