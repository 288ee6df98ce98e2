"""Devices: collect, read back with history, QR labels."""

from __future__ import annotations

from flask import Response, url_for

from traceability.anchoring.service import reader_ledger
from traceability.api.auth import current_principal
from traceability.api.body import json_body
from traceability.api.schemas import CollectedDevice, DeviceVerificationResult, ProofBundle
from traceability.app import current_trace, get_session
from traceability.custody.ingest import record_events
from traceability.custody.messages import ItemResult
from traceability.devices.models import Device
from traceability.devices.services import get_device
from traceability.errors import TraceabilityError
from traceability.labels.ids import format_id
from traceability.labels.render import device_url, label_png, label_svg
from traceability.reports.devices import (
    check_can_read,
    device_detail,
    device_events,
    open_reader,
    read_device,
)
from traceability.reports.schemas import DeviceDetail
from traceability.verification.bundle import device_bundle
from traceability.verification.services import verify_device


class ItemRefused(TraceabilityError):
    """The one item of a POST /devices was refused: its error is the response's."""

    def __init__(self, result: ItemResult) -> None:
        assert result.error is not None
        super().__init__(result.error.message, field=result.error.field)
        self.code, self.status = result.error.code, result.http_status


def collect() -> tuple[CollectedDevice, int]:
    item = {**json_body(), "type": "collected"}
    settings = current_trace().settings
    [result] = record_events(
        session=get_session(),
        principal=current_principal(),
        catalog=current_trace().catalog,
        items=[item],
        id_required=False,
        future_skew_s=settings.future_skew_s,
        now=current_trace().now(),
    )
    if result.status == "rejected" or result.status == "conflict":
        raise ItemRefused(result)
    device = get_device(get_session(), result.qr_id or "")
    collected = CollectedDevice(
        id=result.id,
        qr_id=device.qr_id,
        display_id=format_id(device.qr_id),
        state=device.state,
        digest=result.digest,
        status=result.status,
        label_url=url_for("api.device_label_png", qr_id=device.qr_id, _external=True),
        url=device_url(settings.public_url, device.qr_id),
    )
    return collected, result.http_status


def show(qr_id: str) -> DeviceDetail:
    """The device as its event log says, whether that log verifies, and any drift of the row."""
    session = get_session()
    device = get_device(session, qr_id)
    events = device_events(session, device.qr_id)
    check_can_read(session, current_principal(), device, events)
    view = read_device(session, open_reader(session, current_trace().ledger), device, events)
    return device_detail(view)


def _readable(qr_id: str) -> Device:
    session = get_session()
    device = get_device(session, qr_id)
    check_can_read(session, current_principal(), device, device_events(session, device.qr_id))
    return device


def verify(qr_id: str) -> DeviceVerificationResult:
    session = get_session()
    device = _readable(qr_id)
    result = verify_device(
        session, reader_ledger(session, current_trace().ledger), device.qr_id, device.head_digest
    )
    return DeviceVerificationResult.model_validate(result.to_dict())


def proof(qr_id: str) -> tuple[ProofBundle, dict[str, str]]:
    session = get_session()
    device = _readable(qr_id)
    bundle = ProofBundle.model_validate(
        device_bundle(session, reader_ledger(session, current_trace().ledger), device.qr_id)
    )
    return bundle, {"Content-Disposition": f'attachment; filename="{device.qr_id}-proof.json"'}


def _label(qr_id: str) -> tuple[str, str]:
    device = _readable(qr_id)
    url = device_url(current_trace().settings.public_url, device.qr_id)
    return url, format_id(device.qr_id)


def label_as_png(qr_id: str) -> Response:
    return Response(label_png(*_label(qr_id)), mimetype="image/png")


def label_as_svg(qr_id: str) -> Response:
    return Response(label_svg(*_label(qr_id)), mimetype="image/svg+xml")
