"""Finding a device by any spelling of its QR ID."""

from __future__ import annotations

from sqlmodel import Session

from traceability.devices.models import Device
from traceability.errors import UnknownDevice
from traceability.labels.ids import normalise_id


def get_device(session: Session, raw_id: str) -> Device:
    qr_id = normalise_id(raw_id)
    device = session.get(Device, qr_id)
    if device is None:
        raise UnknownDevice(f"no device {qr_id}", field="qr_id")
    return device
