"""Transfer manifests (转移联单) and licences as the floor and the regulator send them."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlmodel import Session, col, select

from traceability.accounts.models import Organisation
from traceability.app import trace_of
from traceability.lots.models import Lot, LotManifest
from traceability.periods import CHINA
from traceability.register.licensing import amend_licence, issue_licence
from traceability.register.services import SYSTEM

TRANSPORTER = "苏州安达危险品运输有限公司"
#: Valid 统一社会信用代码 (GB 32100-2015 check characters), for the licences of tests.
USCC = {
    "DIS-SZ": "91320500MA1MXXXX0X",
    "PRO-SZ": "91350100M000100Y43",
    "DIS-BJ": "91110000600037341L",
}


def year_of(app: Flask) -> int:
    """The year (Beijing) the app's clock is in: what a manifest issued now carries."""
    return trace_of(app).now().astimezone(CHINA).year


def number(app: Flask, sequence: int, region: str = "320500", year: int | None = None) -> str:
    """An electronic manifest number: year (default: the app's), the 移出地's GB/T 2260 code,
    an 8-digit sequence."""
    return f"{year or year_of(app)}{region}{sequence:08d}"


def shipped(
    number: str, weight_kg: Any, hw_code: str | None = "900-045-49", **extra: Any
) -> dict[str, Any]:
    """One manifest of a shipment (a PCB lot's code unless said otherwise)."""
    item: dict[str, Any] = {"number": number, "transporter": TRANSPORTER, "weight_kg": weight_kg}
    if hw_code is not None:
        item["hw_code"] = hw_code
    return {**item, **extra}


def license_org(
    app: Flask,
    org: str,
    kind: str,
    scope: dict[str, int],
    *,
    number: str | None = None,
    valid_from: dt.date = dt.date(2020, 1, 1),
    valid_to: dt.date = dt.date(2099, 12, 31),
) -> str:
    """The regulator registers ``org``'s licence (by the system admin); its number."""
    number = number or f"{org}-{kind}-LIC"
    with Session(trace_of(app).engine) as session:
        issue_licence(
            session=session, catalog=trace_of(app).catalog, code=org, by=SYSTEM, kind=kind,
            number=number, uscc=USCC.get(org, USCC["DIS-SZ"]), valid_from=valid_from,
            valid_to=valid_to, scope=scope, now=trace_of(app).now(),
        )  # fmt: skip
        session.commit()
    return number


def amend(app: Flask, org: str, number: str, **changes: Any) -> None:
    with Session(trace_of(app).engine) as session:
        amend_licence(
            session=session, catalog=trace_of(app).catalog, code=org, by=SYSTEM, number=number,
            now=trace_of(app).now(), **changes,
        )  # fmt: skip
        session.commit()


_SEQUENCE = itertools.count(1)


def lot_shipment(
    app: Flask, lot: str, weight_kg: Any = None, *, when: dt.datetime | None = None
) -> dict[str, Any]:
    """The ``manifests`` of a shipment of ``lot`` on one truck, as a plant sends them: a
    hazardous lot's 转移联单 number of its plant's province with its fraction's code, a
    non-hazardous lot's shipping document; weighed at the lot's book weight unless given."""
    with Session(trace_of(app).engine) as session:
        row = session.get(Lot, lot)
        assert row is not None, lot
        org = session.exec(select(Organisation).where(Organisation.code == row.org)).one()
        fraction = trace_of(app).catalog.fractions[row.fraction]
        book_kg = Decimal(row.weight_g) / 1000
    sequence = next(_SEQUENCE)
    if fraction.hazardous:
        year = (when or trace_of(app).now()).astimezone(CHINA).year
        item = shipped(f"{year}{org.region}{sequence:08d}", weight_kg or book_kg, fraction.hw_code)
    else:
        item = shipped(f"YD-{sequence:06d}", weight_kg or book_kg, hw_code=None)
    return {"manifests": [item]}


def lot_receipt(app: Flask, lot: str, weight_kg: Any) -> dict[str, Any]:
    """What the processor sends on receipt: the weight of each of the lot's manifests (all of
    ``weight_kg`` on the first), or the lot's weight for one shipped without manifests."""
    with Session(trace_of(app).engine) as session:
        numbers = session.exec(
            select(LotManifest.number).where(LotManifest.lot == lot).order_by(col(LotManifest.id))
        ).all()
    if not numbers:
        return {"weight_kg": weight_kg}
    return {"manifests": [{"number": numbers[0], "weight_kg": weight_kg}]}
