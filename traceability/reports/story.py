"""A device's journey as a citizen reads it on its public page (SPEC §4.4, issue 20 item 8).

Told from the device's log, never from its editable row: each step with its
time and, for the licensed plant, the name the organisation register's events
give it; the device's share of the savings once it is dismantled (its intake
mass × the default factor set, SPEC §2.5); and which steps failed their check
against the ledger, so the badge can say why. Nothing personal: no user, no
collection point's name (a collection point may be one person's shop).

Pure of Flask: the page turns the step kinds into words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session

from traceability.catalog.models import FactorSet
from traceability.custody.facts import effective_payloads
from traceability.custody.models import EventType
from traceability.register.log import register_of
from traceability.reports.devices import DeviceView
from traceability.savings.services import Savings

#: The steps a citizen is told about, in the log's words.
TOLD = (
    EventType.collected,
    EventType.shipped,
    EventType.received,
    EventType.refused,
    EventType.stored,
    EventType.dismantled,
    EventType.corrected,
)
#: A step whose check against the ledger did not pass (``Verification.events``).
FAILED = ("tampered", "broken_chain", "missing_on_chain")


@dataclass(frozen=True)
class Step:
    kind: str  # an ``EventType``
    at: dt.datetime
    plant: str | None = None  # the licensed plant's registered name, where it is one
    weight_kg: Decimal | None = None
    check: str = "verified"  # the event's own verification status


@dataclass(frozen=True)
class Story:
    steps: tuple[Step, ...]
    plant: str | None  # the licensed plant that received (or dismantled) it
    licence_no: str | None
    savings: dict[str, Decimal] | None  # the device's share, once dismantled
    factor_source: str | None
    failed_steps: tuple[Step, ...]


def _plants(session: Session, view: DeviceView) -> dict[str, tuple[str, str | None]]:
    """Registered name and licence number of each dismantler on the device's path."""
    codes = {e.org for e in view.events} | {
        str(_dict(e.payload)["to"]) for e in view.events if _dict(e.payload).get("to")
    }
    register = register_of(session, codes)
    return {
        code: (facts.name, facts.license_no)
        for code, facts in register.items()
        if facts.kind == "dismantler"
    }


def _dict(payload: object) -> dict[str, object]:
    """A payload as a dict (a malformed row's may be anything: it tells nothing then)."""
    return dict(payload) if isinstance(payload, Mapping) else {}


def _weight(payload: dict[str, object]) -> Decimal | None:
    grams = payload.get("weight_g")
    return Decimal(grams) / 1000 if isinstance(grams, int) else None


def device_story(session: Session, view: DeviceView, factor_set: FactorSet) -> Story:
    """The journey of ``view``'s device in the order it was recorded."""
    plants = _plants(session, view)
    payloads = effective_payloads(view.events)
    checks = dict(view.verification.events)
    steps = []
    for event in view.events:
        if event.type not in TOLD or event.occurred_at is None:
            continue
        payload = _dict(payloads.get(event.id, event.payload))
        at_plant = str(payload.get("to")) if event.type == EventType.shipped else event.org
        steps.append(
            Step(
                kind=event.type,
                at=event.occurred_at,
                plant=plants.get(at_plant, (None, None))[0],
                weight_kg=_weight(payload) if event.type == EventType.received else None,
                check=checks.get(event.id, view.verification.status),
            )
        )
    facts = view.facts
    holder = facts.dismantled_by or facts.received_by
    name, licence = plants.get(holder or "", (None, None))
    savings = None
    if facts.state == "dismantled" and facts.received_weight_g:
        savings = Savings(facts.received_weight_g, factor_set).figures()
    return Story(
        steps=tuple(steps),
        plant=name,
        licence_no=licence,
        savings=savings,
        factor_source=factor_set.source if savings else None,
        failed_steps=tuple(s for s in steps if s.check in FAILED),
    )
