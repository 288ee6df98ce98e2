"""Licences in the register (SPEC §2.8): read by anyone signed in, set by a regulator's admin.

``GET /orgs/{code}/licences?on=YYYY-MM-DD`` lists an organisation's licences
with the terms in force that day (Beijing calendar; none: the latest terms):
licence registers are public in China, and a plant choosing a processor needs
to know what it may take. ``POST /orgs/{code}/licences`` issues one and
``POST /orgs/{code}/licences/amendments`` amends one; both are register events
(``register.licensing``) that only a regulator's admin of the holder's region
records.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from flask import request
from pydantic import Field

from traceability.accounts.licences import Licence
from traceability.api.auth import current_principal
from traceability.app import current_trace, get_session
from traceability.custody.messages import Message
from traceability.errors import ValidationFailed
from traceability.register.licensing import amend_licence, issue_licence, read_licences
from traceability.register.log import register_region
from traceability.reports.schemas import Out

Scope = Annotated[
    dict[str, Any],
    Field(description="dismantling: category → units a year; hazardous_waste: HW49 or "
          "900-045-49 → tonnes a year"),
]  # fmt: skip


class LicenceIssue(Message):
    kind: Literal["dismantling", "hazardous_waste"]
    number: str = Field(description="the certificate's number")
    uscc: str = Field(description="the holder's 统一社会信用代码 (GB 32100-2015)")
    valid_from: dt.date
    valid_to: dt.date
    scope: Scope


class LicenceAmendment(Message):
    number: str
    effective: dt.date = Field(description="the terms apply from this day (Beijing)")
    valid_to: dt.date | None = Field(None, description="a new end (earlier: revoked)")
    scope: Scope | None = Field(None, description="the complete new scope")
    uscc: str | None = None


class LicencePublic(Out):
    org: str
    kind: str
    number: str
    uscc: str
    valid_from: str
    valid_to: str
    scope: dict[str, int]
    valid: bool | None = Field(description="valid on the day asked for (None: no day asked)")
    amendments: int


class LicenceList(Out):
    org: str
    on: str | None
    licences: list[LicencePublic]


def _public(licence: Licence, day: dt.date | None = None) -> LicencePublic:
    return LicencePublic(**licence.to_dict(day))


def _day() -> dt.date | None:
    raw = request.args.get("on")
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed("on must be a date (YYYY-MM-DD)", field="on") from None


def show(code: str) -> LicenceList:
    session = get_session()
    day = _day()
    register_region(session, code)  # a 404 when no organisation has the code
    book = read_licences(session, [code])
    return LicenceList(
        org=code,
        on=day.isoformat() if day else None,
        licences=[_public(lic, day) for lic in book.of(code)],
    )


def issue(code: str, body: LicenceIssue) -> tuple[LicencePublic, int]:
    session = get_session()
    licence = issue_licence(
        session=session, catalog=current_trace().catalog, code=code, by=current_principal(),
        now=current_trace().now(), **body.model_dump(),
    )  # fmt: skip
    session.commit()
    return _public(licence), 201


def amend(code: str, body: LicenceAmendment) -> LicencePublic:
    session = get_session()
    licence = amend_licence(
        session=session, catalog=current_trace().catalog, code=code, by=current_principal(),
        now=current_trace().now(), **body.model_dump(),
    )  # fmt: skip
    session.commit()
    return _public(licence)
