"""Checks and steps shared by the handlers of device, lot and correction events."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from traceability.accounts.models import OrgKind
from traceability.catalog.services import grams_to_kg
from traceability.custody.models import EventType
from traceability.custody.workspace import DeviceRecord, LotRecord, Subject, Workspace
from traceability.errors import Forbidden, NotCustodian, UnknownDevice, UnknownLot, ValidationFailed

MAX_LOT_KG = 100_000


class OutputsExceedIntake(ValidationFailed):
    """A dismantling that yields more mass than went in: physically impossible."""

    code = "outputs_exceed_intake"


def require_kind(ws: Workspace, *kinds: OrgKind, action: EventType) -> None:
    if ws.principal.org_kind not in kinds:
        raise Forbidden(f"a {ws.principal.org_kind} cannot record '{action}'", field="type")


def device_of(ws: Workspace, qr_id: str) -> DeviceRecord:
    device = ws.devices.get(qr_id)
    if device is None:
        raise UnknownDevice(f"no device {qr_id} has been collected", field="qr_id")
    return device


def lot_of(ws: Workspace, code: str) -> LotRecord:
    lot = ws.lots.get(code)
    if lot is None:
        raise UnknownLot(f"no output lot {code}", field="lot")
    return lot


def in_custody(ws: Workspace, device: DeviceRecord) -> None:
    if device.custodian != ws.principal.org_code:
        raise NotCustodian(
            f"device {device.qr_id} is not in the custody of {ws.principal.org_code}",
            field="qr_id",
        )


def when_after(
    ws: Workspace, occurred_at: dt.datetime | None, after: dt.datetime | None
) -> dt.datetime:
    """When the event happened (default: now), never before its subject's previous event."""
    when = occurred_at or ws.now
    if after is not None and when < after:
        raise ValidationFailed(
            "occurred_at is earlier than the previous event of this device or lot",
            field="occurred_at",
        )
    return when


def device_max_kg(ws: Workspace, device: DeviceRecord) -> int:
    return ws.catalog.categories[device.category].max_weight_kg


def destination(ws: Workspace, to: str, *kinds: OrgKind) -> str:
    org = ws.orgs.get(to)
    if org is None:
        raise ValidationFailed(f"no organisation {to}", field="to")
    if org.kind not in kinds:
        raise ValidationFailed(f"{to} is a {org.kind}, not a {' or '.join(kinds)}", field="to")
    if to == ws.principal.org_code:
        raise ValidationFailed("cannot ship to your own organisation", field="to")
    return to


def check_mass_balance(ws: Workspace, *, intake_g: int | None, output_g: int, field: str) -> None:
    """Outputs may weigh less than the intake (an audit matter), never more than the tolerance."""
    if intake_g is None:  # pragma: no cover - a received device always has its weight
        return
    tolerance = ws.dismantle_tolerance_pct
    if output_g * 100 <= intake_g * (100 + tolerance):
        return
    limit = (Decimal(intake_g) * (100 + tolerance) / 100 / 1000).quantize(Decimal("0.001"))
    raise OutputsExceedIntake(
        f"outputs weigh {grams_to_kg(output_g)} kg, more than the {grams_to_kg(intake_g)} kg "
        f"received plus the {tolerance} % tolerance ({limit} kg)",
        field=field,
        output_g=output_g,
        intake_g=intake_g,
    )


def record(
    ws: Workspace,
    subject: Subject,
    event_id: str,
    event_type: EventType,
    when: dt.datetime,
    payload: dict[str, Any],
) -> str:
    """Queue the next event on a device's or lot's chain and move the chain head."""
    if isinstance(subject, DeviceRecord):
        digest = ws.append(
            event_id=event_id,
            type=event_type,
            occurred_at=when,
            payload=payload,
            prev=subject.head_digest,
            device=subject.qr_id,
        )
    else:
        digest = ws.append(
            event_id=event_id,
            type=event_type,
            occurred_at=when,
            payload=payload,
            prev=subject.head_digest,
            lot=subject.code,
        )
    subject.head_digest, subject.head_occurred_at = digest, when
    subject.event_count += 1
    ws.touch(subject)
    return digest
