"""One recorded event as an EPCIS 2.0 event (JSON-LD), identified by its GS1 event hash.

Identifiers are URIs under the deployment's public URL: a device is its
label URL (``{public}/d/{ID}``, what its QR code encodes), a lot, an
organisation and a fraction class have paths of their own. The CBV has no
dismantling step: a dismantling is a ``TransformationEvent`` with the CBV's
``disassembling`` step, the device in, each fraction out as a quantity in
kilograms (``KGM``). A correction is the corrected event declared in error
(``errorDeclaration``), naming the correcting record (``urn:uuid:{id}``);
it keeps the corrected event's ID, as GS1 means it to. Project data (weights,
reasons, manifests) is in the ``trace:`` namespace, declared in the
document's context. A lot shipment names its transfer manifests (转移联单) as
bills of lading (``bizTransactionList``, CBV type ``bol``) and lists them
with their weights in ``trace:manifests``; a stocktake of an open lot is a
``cycle_counting`` observation with its weight.

Each event's ``eventID`` is its event hash (``epcis.eventhash``, CBV 2.0
§8.9): the event's content, nothing else. What the ledger adds — the
record's digested content, its digest, its ``prev`` link and its anchor —
travels beside the events in the document's ``trace:proofs`` map, keyed by
eventID (``proof_entry``), so an event's identity does not change when its
anchor does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from traceability.custody.models import EventType
from traceability.db import iso
from traceability.epcis.eventhash import event_hash
from traceability.lots.manifests import cross_province, shipment_of
from traceability.reports.schemas import AnchorInfo
from traceability.verification.bundle import record_content

GS1_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

#: The CBV business step of each event type (and back, for EQ_bizStep).
BIZ_STEPS: dict[str, str] = {
    EventType.collected: "commissioning",
    EventType.shipped: "shipping",
    EventType.received: "receiving",
    EventType.stored: "storing",
    EventType.dismantled: "disassembling",
    EventType.refused: "receiving",
    EventType.lot_shipped: "shipping",
    EventType.lot_received: "receiving",
    EventType.lot_treated: "destroying",
    EventType.stocktake: "cycle_counting",
}
DISPOSITIONS: dict[str, str] = {
    EventType.collected: "active",
    EventType.shipped: "in_transit",
    EventType.received: "in_progress",
    EventType.stored: "in_progress",
    EventType.dismantled: "destroyed",
    EventType.refused: "returned",
    EventType.lot_shipped: "in_transit",
    EventType.lot_received: "in_progress",
    EventType.lot_treated: "destroyed",
    EventType.stocktake: "in_progress",
}


def types_of_step(step: str) -> list[str]:
    """The event types exported with business step ``step`` (a corrected one: its target's)."""
    return [t for t, s in BIZ_STEPS.items() if s == step]


class Names:
    """URIs of this deployment's things."""

    def __init__(self, public_url: str) -> None:
        self.base = public_url.rstrip("/")

    def context(self) -> list[Any]:
        return [GS1_CONTEXT, dict(self.prefixes)]

    @property
    def prefixes(self) -> dict[str, str]:
        return {"trace": f"{self.base}/ns/trace#"}

    def device(self, qr_id: str) -> str:
        return f"{self.base}/d/{qr_id}"

    def lot(self, code: str) -> str:
        return f"{self.base}/lots/{code}"

    def org(self, code: str) -> str:
        return f"{self.base}/orgs/{code}"

    def fraction(self, code: str) -> str:
        return f"{self.base}/fractions/{code}"

    def manifest(self, number: str) -> str:
        return f"{self.base}/manifests/{quote(number, safe='')}"

    @staticmethod
    def event(event_id: str) -> str:
        return f"urn:uuid:{event_id}"

    def parse(self, uri: str) -> tuple[str, str]:
        """What a URI of this deployment names: ``("device", qr_id)``, ``("lot", code)``,
        ``("org", code)``, ``("fraction", code)``; ``("", "")`` for anything else."""
        for kind, path in (("device", "/d/"), ("lot", "/lots/"), ("org", "/orgs/"),
                           ("fraction", "/fractions/")):  # fmt: skip
            key = uri.removeprefix(self.base + path)
            if key != uri and key and "/" not in key and "?" not in key and "#" not in key:
                return kind, key
        return "", ""


def _kg(grams: Any) -> float | None:
    if not isinstance(grams, int) or isinstance(grams, bool):
        return None
    return float(Decimal(grams) / 1000)


def _offset(when: dt.datetime) -> str:
    """The recorded offset; the log keeps UTC, and the plants are in China (+08:00)."""
    return "+08:00"


def _party(names: Names, org: str) -> dict[str, str]:
    return {"type": "possessing_party", "source": names.org(org)}


def proof_entry(
    event: Any, anchor: AnchorInfo | None, path: list[str] | None = None
) -> dict[str, Any]:
    """What the ledger says of one record: its digested content, digest, link and anchor
    with the record's Merkle audit path (RFC 9162, leaf level first, hex)."""
    entry: dict[str, Any] = {
        "trace:record": record_content(event),
        "trace:digest": event.digest,
        "trace:prev": event.prev,
        "trace:anchor": None,  # pending: not yet anchored
    }
    if anchor is not None:
        entry["trace:anchor"] = {
            "trace:root": anchor.root,
            "trace:leafIndex": anchor.leaf_index,
            "trace:batchSize": anchor.size,
            "trace:state": anchor.state,
            "trace:txHash": anchor.tx_hash,
            "trace:blockNumber": anchor.block_number,
            "trace:proof": path,
        }
    return entry


def record_key(names: Names, event: Any, exported: dict[str, Any]) -> str:
    """The key of a record in ``trace:proofs``: its event's ID, a correction's own URN."""
    return names.event(event.id) if event.type == EventType.corrected else exported["eventID"]


def _body(names: Names, event: Any, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The standard part of one (non-correction) event."""
    kind = event.type
    subject = names.device(event.device) if event.device else names.lot(event.lot)
    out: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": iso(event.occurred_at),
        "recordTime": iso(event.recorded_at),
        "eventTimeZoneOffset": _offset(event.occurred_at),
    }
    here = {"id": names.org(event.org)}
    if kind == EventType.dismantled:
        outputs = payload.get("outputs") if isinstance(payload.get("outputs"), list) else []
        out.update(
            type="TransformationEvent",
            inputEPCList=[subject],
            outputQuantityList=[
                {
                    "epcClass": names.fraction(str(o.get("fraction"))),
                    "quantity": _kg(o.get("weight_g")) or 0.0,
                    "uom": "KGM",
                }
                for o in outputs or []
                if isinstance(o, Mapping)
            ],
        )
    else:
        out.update(epcList=[subject], action="ADD" if kind == EventType.collected else "OBSERVE")
    out.update(
        bizStep=BIZ_STEPS.get(kind, "other"),
        disposition=DISPOSITIONS.get(kind, "unknown"),
        readPoint=here,
        bizLocation=here,
    )
    out.update(_parties(names, event, payload))
    extra: dict[str, Any] = {}
    if kind in (EventType.lot_shipped, EventType.lot_received):
        return {**out, **_lot_transfer(names, kind, payload)}
    if kind == EventType.collected:
        extra = {
            "trace:category": payload.get("category"),
            "trace:attributes": payload.get("attributes"),
        }
        if (kg := _kg(payload.get("weight_g"))) is not None:
            extra["trace:weightKg"] = kg
    elif kind in (EventType.received, EventType.stocktake):
        extra = {"trace:weightKg": _kg(payload.get("weight_g"))}
    elif kind == EventType.shipped and payload.get("manifest_no"):
        extra = {"trace:manifestNo": payload.get("manifest_no")}
    elif kind == EventType.refused:
        extra = {"trace:reason": payload.get("reason")}
    elif kind == EventType.stored:
        extra = {"trace:area": payload.get("area")}
    elif kind == EventType.lot_treated:
        extra = {"trace:method": payload.get("method")}
    elif kind == EventType.dismantled and payload.get("batch"):
        extra = {"trace:batch": payload.get("batch"), "trace:line": payload.get("line")}
    return {**out, **extra}


def _parties(names: Names, event: Any, payload: Mapping[str, Any]) -> dict[str, Any]:
    """A shipment's source and destination."""
    if event.type not in (EventType.shipped, EventType.lot_shipped) or not payload.get("to"):
        return {}
    return {
        "sourceList": [_party(names, event.org)],
        "destinationList": [
            {"type": "possessing_party", "destination": names.org(str(payload["to"]))}
        ],
    }


def _lot_transfer(names: Names, kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """A lot's shipment or receipt: its manifests as bills of lading, with their weights."""
    if kind == EventType.lot_shipped:
        manifests = shipment_of(payload)
        extra: dict[str, Any] = {
            "trace:manifests": [
                {"trace:number": m.number, "trace:hwCode": m.hw_code,
                 "trace:transporter": m.transporter, "trace:weightKg": _kg(m.shipped_g)}
                for m in manifests
            ],
            "trace:crossProvince": cross_province(payload),
        }  # fmt: skip
        if "manifest_no" in payload:  # recorded before manifests were lists
            extra["trace:manifestNo"] = payload.get("manifest_no")
    else:
        raw = payload.get("manifests")
        listed: list[Any] = raw if isinstance(raw, list) else []
        manifests = tuple(shipment_of({"manifests": listed}))
        extra = {
            "trace:weightKg": _kg(payload.get("weight_g")),
            "trace:manifests": [
                {"trace:number": str(m.get("number")), "trace:weightKg": _kg(m.get("weight_g"))}
                for m in listed
                if isinstance(m, Mapping)
            ],
        }
    if manifests:
        extra["bizTransactionList"] = [
            {"type": "bol", "bizTransaction": names.manifest(m.number)} for m in manifests
        ]
    return extra


def epcis_event(names: Names, event: Any, corrected: Any | None = None) -> dict[str, Any]:
    """``event`` as EPCIS; a ``corrected`` event needs the event it corrects (``corrected``)."""
    if event.type != EventType.corrected:
        body = _body(names, event, event.payload)
    elif corrected is not None:
        body = _body(names, corrected, corrected.payload)
        body["errorDeclaration"] = {
            "declarationTime": iso(event.recorded_at),
            "reason": "incorrect_data",
            "correctiveEventIDs": [names.event(event.id)],
            "trace:fields": event.payload.get("fields"),
            "trace:reason": event.payload.get("reason"),
            "trace:flag": event.payload.get("flag"),
        }
    else:  # the corrected event is gone from the log: say what is known
        body = _body(names, event, {})
        body["bizStep"], body["disposition"] = "other", "unknown"
    # An extension with nothing to say is left out, not written as null.
    body = {k: v for k, v in body.items() if v is not None or not k.startswith("trace:")}
    return {"eventID": event_hash(body, names.prefixes), **body}
