"""Evidence reports as PDFs (issue 20 item 5): a device's and an audit finding's.

``/portal/devices/<ID>/evidence.pdf`` and ``/portal/findings/evidence.pdf?rule=…&plant=…
&subject=…`` (a finding is named by its rule, organisation and subject, as the cases
name it), in the page's language. ``python -m ledger.verify REPORT.pdf`` checks them.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, request, url_for
from flask_babel import gettext as _

from traceability.anchoring.service import reader_ledger
from traceability.app import current_service, current_trace, get_session
from traceability.audit.evidence import (
    DEVICES_LISTED,
    Report,
    block_times,
    device_evidence,
    evidence_pdf,
    finding_evidence,
)
from traceability.audit.listing import anomaly_public, app_ruleset, scoped_findings
from traceability.audit.services import Filters
from traceability.audit.snapshots import SnapshotCache
from traceability.devices.services import get_device
from traceability.errors import NotFound, ValidationFailed
from traceability.labels.ids import format_id
from traceability.labels.render import device_url
from traceability.register.log import register_of
from traceability.reports.devices import check_can_read, device_events
from traceability.web.auth import browser_login_required
from traceability.web.i18n import current_language
from traceability.web.portal.anomalies import LOT_RULES
from traceability.web.portal.scope import PORTAL_ROLES
from traceability.web.portal.views import category_name


def _pdf(report: Report, name: str) -> Response:
    trace = current_trace()
    ledger = reader_ledger(get_session(), trace.ledger)
    body = evidence_pdf(
        report,
        zh=current_language() == "zh-CN",
        times=block_times(ledger, report.bundles),
        type_name=lambda code: _(code),
        now=trace.now(),
        font_override=trace.settings.cjk_font,
    )
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


def device_report(qr_id: str) -> Response:
    """The device's records with their digests and anchors; its proof bundle attached."""
    session = get_session()
    device = get_device(session, qr_id)
    check_can_read(session, g.principal, device, device_events(session, device.qr_id))
    bundles = device_evidence(session, reader_ledger(session, current_trace().ledger),
                              device.qr_id)  # fmt: skip
    facts = [
        (_("Device"), format_id(device.qr_id)),
        (_("Category"), category_name(device.category or "") or "—"),
        (_("Brand / model / serial"),
         f"{device.brand or '—'} / {device.model or '—'} / {device.serial or '—'}"),
        (_("Events"), str(len(bundles[0]["events"]))),
    ]  # fmt: skip
    report = Report(
        title=_("Device evidence report"),
        facts=facts,
        url=device_url(current_trace().settings.public_url, device.qr_id),
        bundles=bundles,
        about={"device": device.qr_id, "code": device.qr_id},
    )
    return _pdf(report, f"{device.qr_id}-evidence")


def _organisation(code: str) -> str:
    facts = register_of(get_session(), {code}).get(code)
    return f"{facts.name} ({code})" if facts and facts.name else code


def finding_report() -> Response:
    """A finding's rule, detail and the records behind it (its lot, its devices)."""
    rule, plant, subject = (request.args.get(k, "")[:64] for k in ("rule", "plant", "subject"))
    for name, value in (("rule", rule), ("plant", plant), ("subject", subject)):
        if not value:
            raise ValidationFailed(f"say which finding: {name} is missing", field=name)
    _snapshot, found = scoped_findings(
        get_session(), current_trace(), current_service(SnapshotCache), principal=g.principal,
        period=None, filters=Filters(plant=plant, rule=rule, severity=None),
    )  # fmt: skip
    matching = [f for f in found if f.subject == subject]
    if not matching:
        raise NotFound(f"no finding of rule {rule} on {subject} at {plant}", field="subject")
    finding = anomaly_public(matching[0], app_ruleset())
    zh = current_language() == "zh-CN"
    devices = sorted({d for f in matching for d in f.devices})
    bundles = finding_evidence(get_session(), reader_ledger(get_session(), current_trace().ledger),
                               devices, subject if rule in LOT_RULES else None)  # fmt: skip
    facts = [
        (_("Rule"), finding.title_zh if zh else finding.title_en),
        (_("Severity"), _(finding.severity)),
        (_("Organisation"), _organisation(finding.org)),
        (_("Subject"), finding.subject),
        (_("Detail"), finding.detail_zh if zh else finding.detail_en),
        (_("Devices"), str(len(devices))),
    ]
    public = current_trace().settings.public_url.rstrip("/")
    report = Report(
        title=_("Audit finding evidence report"),
        facts=facts,
        url=public + url_for("portal.anomalies", plant=plant, rule=rule),
        bundles=bundles,
        about={"finding": {"rule": rule, "org": plant, "subject": subject}, "code": subject},
        more_devices=max(0, len(devices) - DEVICES_LISTED),
    )
    return _pdf(report, f"{rule}-{subject}-evidence")


def register(bp: Blueprint) -> None:
    guard = browser_login_required(roles=PORTAL_ROLES)
    bp.add_url_rule("/devices/<qr_id>/evidence.pdf", "device_evidence", guard(device_report))
    bp.add_url_rule("/findings/evidence.pdf", "finding_evidence", guard(finding_report))
