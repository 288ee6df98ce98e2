"""A lot shipment's manifests and their receipt, checked against the lot (SPEC §2.8).

Shared by the lot handlers and the corrections of their events: the same
checks whether a manifest list is first sent or corrected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError

from traceability.accounts.licences import china_day
from traceability.catalog.services import kg_to_grams
from traceability.custody.checks import MAX_LOT_KG
from traceability.custody.licence_checks import check_processor
from traceability.custody.messages import ReceivedManifest, ShippedManifest, problem_of
from traceability.custody.workspace import LotRecord, Workspace
from traceability.errors import Conflict, ValidationFailed
from traceability.lots.manifests import MAX_MANIFESTS, Shipment, check_number, province


class ManifestInUse(Conflict):
    """A manifest number another lot's shipment already carries."""

    code = "manifest_in_use"


def _listed(ws: Workspace, lot: LotRecord, numbers: Sequence[str], where: str) -> None:
    seen: set[str] = set()
    for index, number in enumerate(numbers):
        field = f"{where}[{index}].number"
        if number in seen:
            raise ValidationFailed(f"manifest {number} is listed twice", field=field)
        seen.add(number)
        owner = ws.manifest_numbers.get(number)
        if owner is not None and owner != lot.code:
            raise ManifestInUse(
                f"manifest {number} is already carried by lot {owner}", field=field, lot=owner
            )


def _hw_code(
    lot: LotRecord, waste: bool, code: str | None, lot_code: str | None, field: str
) -> str | None:
    """The manifest's waste code: a hazardous-waste lot's must be its fraction's. A hazardous
    fraction the catalogue gives no code (batteries: by chemistry) may name one."""
    if not waste:
        if code is not None:
            raise ValidationFailed(
                f"{field}: a non-hazardous lot's shipment carries no waste code", field=field
            )
        return None
    if lot_code is None:
        return code
    if code is None:
        raise ValidationFailed(f"{field} is required for this lot ({lot_code})", field=field)
    if code != lot_code:
        raise ValidationFailed(
            f"{field} {code} is not the code of {lot.fraction} ({lot_code})", field=field
        )
    return code


def shipped_manifests(
    ws: Workspace,
    lot: LotRecord,
    manifests: Sequence[ShippedManifest],
    *,
    to: str,
    when: dt.datetime,
    where: str = "manifests",
) -> list[dict[str, Any]]:
    """The manifests as the payload holds them (grams), each checked; the processor's
    licence checked for their codes."""
    fraction = ws.catalog.fractions.get(lot.fraction)
    lot_code = fraction.hw_code if fraction is not None else None
    # 名录 waste travels on a 转移联单; a controlled substance that is not (recovered
    # refrigerant) needs its receipt confirmed too (lot.hazardous), but on ordinary papers.
    waste = fraction.hazardous if fraction is not None else lot.hazardous
    shipment = Shipment(waste, lot_code, ws.principal.org_region, china_day(when))
    _listed(ws, lot, [m.number for m in manifests], where)
    out: list[dict[str, Any]] = []
    for index, manifest in enumerate(manifests):
        at = f"{where}[{index}]"
        check_number(manifest.number, shipment, field=f"{at}.number")
        code = _hw_code(lot, waste, manifest.hw_code, lot_code, f"{at}.hw_code")
        item: dict[str, Any] = {"number": manifest.number}
        if code is not None:
            item["hw_code"] = code
        item["transporter"] = manifest.transporter
        item["weight_g"] = kg_to_grams(
            manifest.weight_kg, field=f"{at}.weight_kg", max_kg=MAX_LOT_KG
        )
        out.append(item)
    codes = sorted({m["hw_code"] for m in out if "hw_code" in m})
    check_processor(ws, to, codes, when, hazardous=waste)
    return out


def manifest_rows(lot: LotRecord, manifests: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``lot_manifest`` rows of a shipment's payload manifests."""
    return [
        {
            "lot": lot.code,
            "number": m["number"],
            "hw_code": m.get("hw_code"),
            "transporter": m["transporter"],
            "shipped_weight_g": m["weight_g"],
        }
        for m in manifests
    ]


def received_manifests(
    ws: Workspace,
    lot: LotRecord,
    manifests: Sequence[ReceivedManifest],
    *,
    where: str = "manifests",
) -> list[dict[str, Any]]:
    """Each of the lot's manifests weighed once, in grams, as the payload holds them."""
    shipped = [row["number"] for row in ws.lot_manifests.get(lot.code, ())]
    out: list[dict[str, Any]] = []
    for index, manifest in enumerate(manifests):
        field = f"{where}[{index}].number"
        if manifest.number not in shipped:
            raise ValidationFailed(
                f"{manifest.number} is not a manifest of lot {lot.code} "
                f"(its manifests: {', '.join(shipped)})",
                field=field,
            )
        if any(m["number"] == manifest.number for m in out):
            raise ValidationFailed(f"manifest {manifest.number} is weighed twice", field=field)
        grams = kg_to_grams(
            manifest.weight_kg, field=f"{where}[{index}].weight_kg", max_kg=MAX_LOT_KG
        )
        out.append({"number": manifest.number, "weight_g": grams})
    missing = [n for n in shipped if n not in {m["number"] for m in out}]
    if missing:
        raise ValidationFailed(
            f"weigh every manifest of the lot: {', '.join(missing)} not weighed", field=where
        )
    return out


def crosses_province(ws: Workspace, to: str) -> bool | None:
    """Whether a shipment to ``to`` leaves the sender's province (None: a region unknown)."""
    here, there = (
        province(ws.principal.org_region),
        province(getattr(ws.orgs.get(to), "region", None)),
    )
    return None if here is None or there is None else here != there


_SHIPPED = TypeAdapter(list[ShippedManifest])
_RECEIVED = TypeAdapter(list[ReceivedManifest])


def parse_manifests(value: Any, *, received: bool, field: str) -> list[Any]:
    """A corrected ``manifests`` list parsed like the event's own (its paths under ``field``)."""
    if not isinstance(value, list) or not value or len(value) > MAX_MANIFESTS:
        raise ValidationFailed(
            f"{field} must be a list of 1 to {MAX_MANIFESTS} manifests", field=field
        )
    try:
        return (_RECEIVED if received else _SHIPPED).validate_python(value)
    except ValidationError as exc:
        raise problem_of(exc, prefix=field) from None
