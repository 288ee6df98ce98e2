"""Pre-minted QR label sheets: POST /labels, GET /labels/{sheet}.pdf."""

from __future__ import annotations

from flask import Response, request, url_for

from traceability.api.auth import current_principal
from traceability.api.schemas import LabelSheet, LabelsRequest
from traceability.app import current_trace, get_session
from traceability.db import utcnow
from traceability.errors import ValidationFailed
from traceability.labels.render import label_sheet_pdf
from traceability.labels.services import mint_sheet, sheet_ids, sheet_items
from traceability.labels.throttle import RenderPolicy, finish_render, start_render

LAYOUTS = ("a4", "thermal")


def create(body: LabelsRequest) -> tuple[LabelSheet, int]:
    session = get_session()
    sheet = mint_sheet(session=session, principal=current_principal(), count=body.count)
    pdf_url = url_for("api.labels_pdf", sheet=sheet.id, _external=True)
    ids = sheet_ids(session, sheet.id)
    return LabelSheet(sheet=sheet.id, count=sheet.count, pdf_url=pdf_url, ids=ids), 201


def pdf(sheet: str) -> Response:
    layout = request.args.get("layout", "a4")
    if layout not in LAYOUTS:
        raise ValidationFailed("layout must be a4 or thermal", field="layout")
    settings = current_trace().settings
    session, principal = get_session(), current_principal()
    items = sheet_items(session, principal, sheet, settings.public_url)
    policy = RenderPolicy(labels_per_hour=settings.labels_per_hour)
    render = start_render(
        session=session, principal=principal, labels=len(items), policy=policy, now=utcnow()
    )
    try:
        body = label_sheet_pdf(items, layout=layout, title=f"Sheet {sheet}", font=settings.cjk_font)  # type: ignore[arg-type]
    finally:
        finish_render(session=session, render_id=render, now=utcnow())
    return Response(body, mimetype="application/pdf")
