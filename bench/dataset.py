"""Realistic device lifecycles: API items for ingest, hashed rows for the raw baselines.

Each device is collected, shipped to the plant, received and dismantled (four
events), with categories, attributes and dismantling outputs per the catalogue
(traceability/catalog/data). The rows built here carry real digests and
``prev`` links computed with ``ledger.canonical``, exactly as the handlers
would store them, so verification finds them ``verified`` once anchored.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ledger.canonical import digest_hex, event_content
from traceability.db import iso
from traceability.labels.ids import mint_id

EVENTS_PER_DEVICE = 4


@dataclass(frozen=True)
class Kind:
    """One kind of device as a collector sees it and a plant dismantles it."""

    category: str
    attributes: dict[str, Any]  # as submitted (numbers may be JSON numbers)
    stored_attributes: dict[str, Any]  # as validated (decimals become strings)
    weight_kg: str
    outputs: tuple[tuple[str, str], ...]  # (fraction, kg), kg with ≤ 3 decimals


KINDS = (
    Kind(
        "tv",
        {"display": "crt", "screen_in": 21},
        {"display": "crt", "screen_in": 21},
        "31.5",
        (
            ("crt_panel_glass", "12.0"),
            ("crt_funnel_glass", "6.5"),
            ("pcb", "2.125"),
            ("plastics", "7"),
        ),
    ),
    Kind(
        "tv",
        {"display": "flat", "screen_in": 42},
        {"display": "flat", "screen_in": 42},
        "14.2",
        (("lcd_panel", "4.1"), ("pcb", "1.35"), ("plastics", "3.2"), ("aluminium", "2.4")),
    ),
    Kind(
        "refrigerator",
        {"volume_l": 220},
        {"volume_l": 220},
        "58",
        (
            ("compressor", "9.5"),
            ("refrigerant", "0.12"),
            ("pu_foam", "6.8"),
            ("ferrous_metal", "24.3"),
            ("plastics", "11.1"),
        ),
    ),
    Kind(
        "washing_machine",
        {"type": "drum", "dry_load_kg": 7.5},
        {"type": "drum", "dry_load_kg": "7.5"},
        "65.4",
        (("motor", "5.2"), ("ferrous_metal", "30.6"), ("plastics", "14"), ("pcb", "0.45")),
    ),
    Kind(
        "air_conditioner",
        {"form": "split", "cooling_w": 2600},
        {"form": "split", "cooling_w": 2600},
        "38.7",
        (
            ("compressor", "11.9"),
            ("refrigerant", "0.9"),
            ("copper", "3.3"),
            ("aluminium", "2.1"),
            ("ferrous_metal", "12.5"),
        ),
    ),
    Kind(
        "microcomputer",
        {"form": "desktop"},
        {"form": "desktop"},
        "9.8",
        (("pcb", "1.1"), ("ferrous_metal", "5.6"), ("cables", "0.35"), ("plastics", "1.2")),
    ),
)

BRANDS = ("Haier", "Midea", "Gree", "Hisense", "TCL", "Konka", "Lenovo", "Skyworth")


def kind_of(index: int) -> Kind:
    return KINDS[index % len(KINDS)]


def _grams(kg: str) -> int:
    whole, _, frac = kg.partition(".")
    return int(whole) * 1000 + int((frac + "000")[:3])


def _ts(when: dt.datetime) -> str:
    return iso(when)


# -- what handhelds post to POST /api/v1/events ------------------------------


def collected_item(index: int, when: dt.datetime) -> dict[str, Any]:
    kind = kind_of(index)
    return {
        "id": str(uuid.uuid4()),
        "type": "collected",
        "category": kind.category,
        "attributes": kind.attributes,
        "weight_kg": kind.weight_kg,
        "brand": BRANDS[index % len(BRANDS)],
        "serial": f"SN{index:08d}",
        "source": "household",
        "occurred_at": _ts(when),
    }


def shipped_item(qr_id: str, to: str, manifest: str, when: dt.datetime) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": "shipped",
        "qr_id": qr_id,
        "to": to,
        "manifest_no": manifest,
        "occurred_at": _ts(when),
    }


def received_item(index: int, qr_id: str, when: dt.datetime) -> dict[str, Any]:
    weight = _grams(kind_of(index).weight_kg) - 150  # the plant's scale reads a little less
    return {
        "id": str(uuid.uuid4()),
        "type": "received",
        "qr_id": qr_id,
        "weight_kg": f"{weight // 1000}.{weight % 1000:03d}",
        "occurred_at": _ts(when),
    }


def dismantled_item(index: int, qr_id: str, batch: str, when: dt.datetime) -> dict[str, Any]:
    outputs = [{"fraction": f, "weight_kg": kg} for f, kg in kind_of(index).outputs]
    return {
        "id": str(uuid.uuid4()),
        "type": "dismantled",
        "qr_id": qr_id,
        "batch": batch,
        "line": f"L{index % 3 + 1}",
        "outputs": outputs,
        "occurred_at": _ts(when),
    }


# -- the same lifecycles as stored rows (raw baselines, anchoring, verification) ----


def event_rows(
    count: int,
    *,
    collector: str,
    collector_user: str,
    plant: str,
    plant_user: str,
    now: dt.datetime | None = None,
    step: dt.timedelta | None = None,
) -> Iterator[dict[str, Any]]:
    """``count`` event rows (event table columns) with real digests and prev links.

    ``step``: the time between two devices' collections (default 1 ms: every device
    within the last day); the last one is still dismantled in the two hours before ``now``.
    """
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    # Dismantled (when + 20 h) in the two hours before ``now``: anchored right after the load,
    # every event is on time (within TRACE_ANCHOR_MAX_DELAY_S of its recorded_at), as
    # a plant that anchors continuously would have it; a late event is never claimed.
    start = now - dt.timedelta(hours=22)
    if step is not None:  # spread over the past: the last device as above
        start -= step * (-(-count // EVENTS_PER_DEVICE))
    step = step or dt.timedelta(milliseconds=1)
    produced = 0
    for index in itertools.count():
        kind, qr_id = kind_of(index), mint_id()
        when = start + index * step
        batch, manifest = f"B-{index // 500:04d}", f"M-{index // 500:05d}"
        received_g = _grams(kind.weight_kg) - 150
        collected_payload: dict[str, Any] = {
            "category": kind.category,
            "attributes": kind.stored_attributes,
            "weight_g": _grams(kind.weight_kg),
            "brand": BRANDS[index % len(BRANDS)],
            "serial": f"SN{index:08d}",
            "source": "household",
        }
        steps = (
            ("collected", collector, collector_user, when, collected_payload),
            (
                "shipped",
                collector,
                collector_user,
                when + dt.timedelta(hours=2),
                {"to": plant, "manifest_no": manifest},
            ),
            ("received", plant, plant_user, when + dt.timedelta(hours=6), {"weight_g": received_g}),
            (
                "dismantled",
                plant,
                plant_user,
                when + dt.timedelta(hours=20),
                {
                    "outputs": [{"fraction": f, "weight_g": _grams(kg)} for f, kg in kind.outputs],
                    "batch": batch,
                    "line": f"L{index % 3 + 1}",
                },
            ),
        )
        prev = None
        for type_, org, actor, occurred, payload in steps:
            if produced == count:
                return
            event_id = str(uuid.uuid4())
            recorded = occurred + dt.timedelta(seconds=5)
            digest = digest_hex(
                event_content(
                    id=event_id,
                    type=type_,
                    org=org,
                    actor=actor,
                    occurred_at=iso(occurred),
                    recorded_at=iso(recorded),
                    payload=payload,
                    prev=prev,
                    device=qr_id,
                )
            )
            yield {
                "id": event_id,
                "type": type_,
                "device": qr_id,
                "lot": None,
                "org": org,
                "actor": actor,
                "occurred_at": occurred,
                "recorded_at": recorded,
                "payload": payload,
                "prev": prev,
                "digest": digest,
            }
            prev = digest
            produced += 1
