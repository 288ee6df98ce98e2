"""Pre-minted QR label sheets: POST /labels, GET /labels/{sheet}.pdf."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from traceability.api.auth import RECORDERS, current_principal, require
from traceability.api.body import json_body
from traceability.db import get_session
from traceability.errors import ValidationFailed
from traceability.labels.render import label_sheet_pdf
from traceability.labels.services import mint_sheet, sheet_items

LAYOUTS = ("a4", "thermal")


def create() -> tuple[Response, int]:
    sheet = mint_sheet(
        session=get_session(), principal=current_principal(), count=json_body().get("count")
    )
    return jsonify(
        {
            "sheet": sheet.id,
            "count": sheet.count,
            "pdf_url": url_for("api.labels_pdf", sheet=sheet.id, _external=True),
        }
    ), 201


def pdf(sheet: str) -> Response:
    layout = request.args.get("layout", "a4")
    if layout not in LAYOUTS:
        raise ValidationFailed("layout must be a4 or thermal", field="layout")
    items = sheet_items(
        get_session(), current_principal(), sheet, current_app.config["TRACE_SETTINGS"].public_url
    )
    body = label_sheet_pdf(items, layout=layout, title=f"Sheet {sheet}")  # type: ignore[arg-type]
    return Response(body, mimetype="application/pdf")


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/labels", "labels_create", require(*RECORDERS)(create), methods=["POST"])
    bp.add_url_rule("/labels/<sheet>.pdf", "labels_pdf", require(*RECORDERS)(pdf))
