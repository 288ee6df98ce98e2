"""A plant and period: the three flows and their gaps, batches, sampling, exports."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from typing import Any

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError
from werkzeug.wrappers import Response as WerkzeugResponse

from ledger.errors import LedgerError
from traceability.accounts.models import Role
from traceability.anchoring.service import anchor_now, reader_ledger
from traceability.anchoring.trust import TrustedLedger
from traceability.app import current_service, current_trace, get_session
from traceability.audit.figures import PlantFigures, signed_tonnes, tonnes
from traceability.audit.listing import app_ruleset, snapshot_for
from traceability.audit.sample_outcomes import OutcomeRequest, record_outcome, sample_outcomes
from traceability.audit.sampling import METHOD, METHOD_VERSION, METHOD_ZH, Sample, audit_sample
from traceability.audit.snapshots import Snapshot, SnapshotCache
from traceability.db import iso
from traceability.errors import TraceabilityError, ValidationFailed
from traceability.periods import CHINA
from traceability.reports.batches import batch_report, get_batch
from traceability.reports.devices import open_reader
from traceability.web.auth import browser_login_required
from traceability.web.i18n import current_language
from traceability.web.portal.cases import case_words, open_high_cases
from traceability.web.portal.exports import table_response
from traceability.web.portal.scope import (
    PORTAL_ROLES,
    closed_at,
    current_scope,
    recent_quarters,
    requested_paging,
    requested_period,
)
from traceability.web.portal.views import category_name, chart_data

PER_PAGE = 50


def _figures(plant: str) -> tuple[Any, Any, Snapshot, PlantFigures]:
    scope = current_scope()
    org = scope.plant(plant)
    period = requested_period()
    snapshot = snapshot_for(get_session(), current_trace(), current_service(SnapshotCache), period)
    return org, period, snapshot, snapshot.figures.plants.get(plant) or PlantFigures(plant)


def plant_page(plant: str) -> str:
    org, period, snapshot, fig = _figures(plant)
    months = snapshot.figures.months.get(plant, {})
    cats = sorted({c for m in months.values() for c in m})
    findings = [f for f in snapshot.findings if f.org == plant]
    factor_set = current_trace().catalog.default_factor_set
    return render_template(
        "portal/plant.html",
        org=org,
        period=period,
        close=closed_at(period),
        signed_tonnes=signed_tonnes,
        quarters=recent_quarters(current_trace().now()),
        fig=fig,
        savings=fig.savings(factor_set),
        factor_set=factor_set,
        tonnes=tonnes,
        category_name=category_name,
        findings=len(findings),
        computed_at=iso(snapshot.computed_at),
        open_cases=open_high_cases([plant]),
        plant_code=plant,
        **case_words(),
        charts=chart_data(
            volumes={
                "months": list(months),
                "series": [
                    {"name": category_name(c), "data": [months[m][c] for m in months]} for c in cats
                ],
                "title": _("Devices dismantled per month, by category"),
            }
        ),
    )


def figure_rows(fig: PlantFigures) -> list[list[Any]]:
    rows: list[list[Any]] = [
        [_("Collected for this plant"), fig.collected_for, ""],
        [_("Received"), fig.received, ""],
        [_("Dismantled"), fig.dismantled, ""],
        [_("In stock at the end"), fig.in_stock, ""],
        [_("Treated mass (t)"), tonnes(fig.mass_g), ""],
        [_("Outputs produced (t)"), tonnes(fig.lots.produced_g), ""],
        [_("Output lots shipped"), fig.lots.shipped_lots, tonnes(fig.lots.shipped_g)],
        [_("Lots received by processors"), fig.lots.received_lots, tonnes(fig.lots.received_g)],
        [_("Lots awaiting confirmed receipt"), fig.lots.awaiting_lots, ""],
        [_("Devices behind these figures that do not verify"), fig.unverified, ""],
        # not in the figures above (custody.closing): what they would change
        [_("Corrections recorded after the close"), fig.late_corrections, tonnes(fig.late_mass_g)],
    ]
    for code, cat in sorted(fig.categories.items()):
        name = category_name(code)
        rows.append([f"{name} · {_('Received')}", cat.received, ""])
        rows.append([f"{name} · {_('Dismantled')}", cat.dismantled, tonnes(cat.mass_g)])
    return rows


def figures_export(plant: str, fmt: str) -> Response:
    org, period, _snapshot, fig = _figures(plant)
    header = [_("Figure"), _("Count"), _("Tonnes")]
    return table_response(
        f"{plant}-{period.name}-figures", fmt, header, figure_rows(fig), title=org.name
    )


def batches_page(plant: str) -> str:
    paging = requested_paging(PER_PAGE)
    org, period, snapshot, _fig = _figures(plant)
    factor_set = current_trace().catalog.default_factor_set
    rows = [
        {**dataclasses.asdict(g), "co2_t": tonnes(g.mass_g) * factor_set.co2_t}
        for g in snapshot.figures.batches.get(plant, [])
    ]
    pages = paging.pages(len(rows))
    groups = snapshot.figures.batches.get(plant, [])
    return render_template(
        "portal/batches.html", org=org, period=period, tonnes=tonnes,
        close=closed_at(period), signed_tonnes=signed_tonnes,
        late=sum(g.late_corrections for g in groups),
        late_mass_g=sum(g.late_mass_g for g in groups),
        rows=paging.window(rows), page=min(paging.page, pages), pages=pages,
        factor_set=factor_set, quarters=recent_quarters(current_trace().now()),
        computed_at=iso(snapshot.computed_at),
    )  # fmt: skip


def batch_page(plant: str, code: str) -> str:
    org = current_scope().plant(plant)
    session = get_session()
    ledger = open_reader(session, current_trace().ledger)
    factor_set = current_trace().catalog.default_factor_set
    batch = get_batch(session, plant, code)
    report = batch_report(session, batch, factor_set, ledger=ledger, now=current_trace().now())
    return render_template(
        "portal/batch.html", org=org, report=report, category_name=category_name,
        signed_tonnes=signed_tonnes,
    )  # fmt: skip


def _sample(plant: str) -> tuple[Any, Any, Sample, str | None]:
    org = current_scope().plant(plant)
    period = requested_period()
    session = get_session()
    problem: str | None = None
    try:
        reader = reader_ledger(session, current_trace().ledger)
    except LedgerError as exc:  # the page says why there is no sample
        reader, problem = TrustedLedger.off(), str(exc)
    sample = audit_sample(
        session, reader, plant=plant, period=period,
        sizes=app_ruleset().sampling, now=current_trace().now(),
    )  # fmt: skip
    return org, period, sample, problem


def sample_page(plant: str, error: str | None = None, status: int = 200) -> tuple[str, int]:
    if error:
        get_session().rollback()
    org, period, sample, problem = _sample(plant)
    block_time = dt.datetime.fromtimestamp(sample.block.timestamp, CHINA) if sample.block else None
    return render_template(
        "portal/sample.html", org=org, period=period, sample=sample, block_time=block_time,
        method=METHOD_ZH if current_language() == "zh-CN" else METHOD, problem=problem,
        context=f"{METHOD_VERSION}|{plant}|{period.name}", category_name=category_name,
        quarters=recent_quarters(current_trace().now()), sizes=app_ruleset().sampling,
        outcomes=sample_outcomes(get_session(), plant, period.name), error=error,
        outcome_name=outcome_name, is_auditor=g.principal.role == Role.auditor,
    ), status  # fmt: skip


#: The video review's outcomes, in a reader's words (zh, en).
OUTCOME_NAMES = {
    "matches": ("与记录一致", "matches the records"),
    "mismatch": ("与记录不符", "does not match"),
    "no_footage": ("无视频", "no footage"),
}


def outcome_name(code: str | None) -> str:
    if not code:
        return ""
    words = OUTCOME_NAMES.get(code, (code, code))
    return words[0] if current_language() == "zh-CN" else words[1]


def record_sample_outcome(plant: str) -> WerkzeugResponse | tuple[str, int]:
    """One device's video-review outcome from the sample page's form (auditors)."""
    _org, period, sample, _problem = _sample(plant)
    try:
        try:
            req = OutcomeRequest(
                qr_id=(request.form.get("qr_id") or "")[:64],
                outcome=request.form.get("outcome") or "",  # type: ignore[arg-type]
                note=request.form.get("note") or None,
            )
        except ValidationError as exc:
            loc = [str(p) for p in exc.errors(include_url=False)[0]["loc"]]
            raise ValidationFailed(f"{loc[-1] if loc else 'outcome'} is not valid",
                                   field=loc[-1] if loc else "outcome") from None  # fmt: skip
        record_outcome(get_session(), g.principal, sample, req, current_trace().now())
    except TraceabilityError as exc:
        message = _("The request was refused (%(field)s): %(message)s",
                    field=exc.field or "", message=exc.message)  # fmt: skip
        return sample_page(plant, message, exc.status)
    with contextlib.suppress(LedgerError):  # else it stays pending: the worker anchors it
        anchor_now(current_trace().engine, current_trace().ledger, from_request=True)
    target = url_for("portal.sample", plant=plant, period=period.name)
    return redirect(f"{target}#device-{req.qr_id}")


def sample_export(plant: str, fmt: str) -> Response:
    """The video-review work order as a sheet: one row per sampled device, Beijing times."""
    org, period, sample, _problem = _sample(plant)
    if not sample.drawn:
        abort(409, description=_("There is no sample for this period yet."))
    header = [
        "#", _("Device"), _("Category"), _("Line"), _("Operator"),
        _("Dismantled (Beijing time, UTC+8)"), _("Video from (Beijing time, UTC+8)"),
        _("Video to (Beijing time, UTC+8)"), _("Outcome"),
    ]  # fmt: skip
    outcomes = sample_outcomes(get_session(), plant, period.name)
    header += [_("Recorded by"), _("Recorded (Beijing time, UTC+8)"), _("Note"), _("Case")]
    rows = [
        [n, d.qr_id, category_name(d.category) if d.category else "", d.line or "",
         d.operator or "", d.dismantled_at, d.video_from, d.video_to,
         *_outcome_cells(outcomes.get(d.qr_id))]
        for n, d in enumerate(sample.devices, start=1)
    ]  # fmt: skip
    return table_response(f"{plant}-{period.name}-sample", fmt, header, rows, title=org.name)


def _outcome_cells(o: Any) -> list[Any]:
    if o is None:
        return ["", "", "", "", ""]
    return [outcome_name(o.outcome), o.actor, o.at, o.note or "", o.case or ""]


def register(bp: Blueprint) -> None:
    guard = browser_login_required(roles=PORTAL_ROLES)
    bp.add_url_rule("/plants/<plant>", "plant", guard(plant_page))
    bp.add_url_rule("/plants/<plant>/figures.<any(csv, xlsx):fmt>", "plant_figures",
                    guard(figures_export))  # fmt: skip
    bp.add_url_rule("/plants/<plant>/batches", "batches", guard(batches_page))
    bp.add_url_rule("/plants/<plant>/batches/<code>", "batch", guard(batch_page))
    bp.add_url_rule("/plants/<plant>/sample", "sample", guard(sample_page))
    bp.add_url_rule("/plants/<plant>/sample/outcome", "sample_outcome",
                    browser_login_required(roles=(Role.auditor,))(record_sample_outcome),
                    methods=["POST"])  # fmt: skip
    bp.add_url_rule("/plants/<plant>/sample.<any(csv, xlsx):fmt>", "sample_export",
                    guard(sample_export))  # fmt: skip
