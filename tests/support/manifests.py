"""Transfer manifests (转移联单) and licences as the floor and the regulator send them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from sqlmodel import Session

from traceability.app import trace_of
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
