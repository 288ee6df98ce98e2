"""The OpenAPI 3.1 document of /api/v1 (a test keeps it in step with the routes)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from traceability.custody.models import EventType

ERROR = {"$ref": "#/components/schemas/Error"}


def _op(
    summary: str,
    *,
    auth: bool = True,
    body: dict[str, Any] | None = None,
    ok: str = "200",
    media: str = "application/json",
    params: tuple[str, ...] = (),
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            ok: {"description": "success", "content": {media: {}}},
            "4XX": {
                "description": "client error",
                "content": {"application/json": {"schema": ERROR}},
            },
        },
    }
    if not auth:
        op["security"] = []
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in params
        ]
    return op


def _obj(required: tuple[str, ...] = (), **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": props}


_STR, _NUM, _INT = {"type": "string"}, {"type": "number"}, {"type": "integer"}
_EVENT = _obj(
    ("id", "type"),
    id={"type": "string", "format": "uuid"},
    type={"enum": [t.value for t in EventType]},
    qr_id=_STR,
    lot=_STR,
    occurred_at={"type": "string", "format": "date-time"},
    weight_kg=_NUM,
    to=_STR,
    manifest_no=_STR,
    area=_STR,
    batch=_STR,
    line=_STR,
    method=_STR,
    corrects=_STR,
    reason=_STR,
    fields={"type": "object"},
    outputs={
        "type": "array",
        "items": _obj(("fraction", "weight_kg"), fraction=_STR, weight_kg=_NUM),
    },
)

PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/health": {"get": _op("Service, database and ledger status", auth=False)},
    "/api/v1/ledger": {
        "get": _op("Trust anchors, accepted submitters and the last completeness check", auth=False)
    },
    "/api/v1/catalog": {
        "get": _op(
            "Categories, attributes, fractions, rules, rate schedules, factor sets", auth=False
        )
    },
    "/api/v1/openapi.json": {"get": _op("This document", auth=False)},
    "/api/v1/devices": {
        "post": _op(
            "Collect a device (idempotent with a client id)",
            ok="201",
            body=_obj(
                ("category",),
                id=_STR,
                qr_id=_STR,
                category=_STR,
                attributes={"type": "object"},
                weight_kg=_NUM,
                brand=_STR,
                model=_STR,
                serial=_STR,
                source=_STR,
                occurred_at=_STR,
            ),
        )
    },
    "/api/v1/events": {
        "post": _op(
            "Record up to 1000 events, each all-or-nothing",
            body=_obj(("events",), events={"type": "array", "maxItems": 1000, "items": _EVENT}),
        )
    },
    "/api/v1/devices/{qr_id}": {
        "get": _op("Device with its events, digests and anchors", params=("qr_id",))
    },
    "/api/v1/devices/{qr_id}/verify": {
        "get": _op("Verification status of every event of the device", params=("qr_id",))
    },
    "/api/v1/devices/{qr_id}/proof": {
        "get": _op("Proof bundle for python -m ledger.verify", params=("qr_id",))
    },
    "/api/v1/anchors": {"post": _op("Anchor all pending events now")},
    "/api/v1/devices/{qr_id}/label.png": {
        "get": _op("QR label (PNG)", media="image/png", params=("qr_id",))
    },
    "/api/v1/devices/{qr_id}/label.svg": {
        "get": _op("QR label (SVG)", media="image/svg+xml", params=("qr_id",))
    },
    "/api/v1/labels": {
        "post": _op("Pre-mint a sheet of label IDs", ok="201", body=_obj(("count",), count=_INT))
    },
    "/api/v1/labels/{sheet}.pdf": {
        "get": _op(
            "Label sheet PDF (?layout=a4|thermal)", media="application/pdf", params=("sheet",)
        )
    },
    "/api/v1/batches/{code}": {
        "get": _op("Batch with devices, mass and savings", params=("code",))
    },
}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "WEEE traceability API", "version": "1"},
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": _obj(
                    ("error",), error=_obj(("code", "message"), code=_STR, message=_STR, field=_STR)
                )
            },
        },
        "paths": PATHS,
    }


def openapi() -> Response:
    return jsonify(document())


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/openapi.json", "openapi", openapi)
