"""Issuing, amending and reading licences: register events by a regulator's admin (SPEC §2.8).

``issue_licence`` records ``licence_issued`` on the holder's register chain,
``amend_licence`` records ``licence_amended`` with the complete terms from
its effective date; both are hashed, chained and anchored like every
register event, and only a regulator's admin (or the deployment's own,
``services.SYSTEM``) of the holder's region may record them. ``read_licences``
replays them (``licences.LicenceBook``): what the ingest checks, the audit
rules and the pages read. Example::

    book = read_licences(session, ["DIS-SZ01"])
    book.licensed_categories("DIS-SZ01", dt.date(2026, 7, 15))  # {"tv": 600000, ...}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from traceability.accounts.licences import (
    DISMANTLING,
    HOLDER_KIND,
    KINDS,
    LICENCE_AMENDED,
    LICENCE_ISSUED,
    LICENCE_TYPES,
    SCOPE_KEY,
    Licence,
    LicenceBook,
    replay_licences,
)
from traceability.accounts.models import Organisation, Principal
from traceability.accounts.services import can_read_region
from traceability.catalog.hw import check_licensed_item
from traceability.catalog.models import Catalog
from traceability.custody.models import Event
from traceability.db import utcnow
from traceability.errors import Conflict, Forbidden, NotFound, ValidationFailed
from traceability.limits import text_problem
from traceability.register.log import record_org_event, register_of
from traceability.register.services import SYSTEM, may_change
from traceability.register.uscc import normalise_uscc

_EVENT = Event.__table__  # type: ignore[attr-defined]
NUMBER_MAX = 64
#: Largest plausible yearly capacity: units of a dismantling licence, tonnes of a HW licence.
MAX_CAPACITY = {DISMANTLING: 50_000_000, "hazardous_waste": 10_000_000}


def read_licences(session: Session, codes: Iterable[str] | None = None) -> LicenceBook:
    """The licences of ``codes`` (None: of every organisation), replayed from the register."""
    query = select(_EVENT).where(
        _EVENT.c.organisation.is_not(None), _EVENT.c.type.in_(sorted(LICENCE_TYPES))
    )
    if codes is not None:
        query = query.where(_EVENT.c.organisation.in_(sorted(set(codes))))
    return replay_licences(session.execute(query.order_by(_EVENT.c.seq)))


def check_number(value: Any) -> str:
    """A licence number as printed on the certificate: one line of text, 1–64 characters."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > NUMBER_MAX or text_problem(text, multiline=False):
        raise ValidationFailed(
            f"number must be the licence number, one line of 1 to {NUMBER_MAX} characters",
            field="number",
        )
    return text


def _day(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{field} must be a date (YYYY-MM-DD)", field=field) from None


def check_scope(catalog: Catalog, kind: str, scope: Any, *, field: str = "scope") -> dict[str, int]:
    """Licensed items with their yearly capacity: catalogue categories (units) for a
    dismantling licence, waste categories or codes (tonnes) for a hazardous-waste one."""
    if not isinstance(scope, Mapping) or not scope:
        raise ValidationFailed(f"{field} must list at least one licensed item", field=field)
    clean: dict[str, int] = {}
    for key, capacity in scope.items():
        where = f"{field}.{key}"
        if kind == DISMANTLING:
            if key not in catalog.categories:
                raise ValidationFailed(f"{where}: unknown category {str(key)[:32]!r}", field=where)
            item = str(key)
        else:
            item = check_licensed_item(key, field=where)
        if type(capacity) is not int or not 0 < capacity <= MAX_CAPACITY[kind]:
            unit = "units" if kind == DISMANTLING else "tonnes"
            raise ValidationFailed(
                f"{where} must be a whole number of {unit} a year, 1 to {MAX_CAPACITY[kind]:,}",
                field=where,
            )
        clean[item] = capacity
    return dict(sorted(clean.items()))


def _holder(session: Session, code: str, by: Principal, kind: str) -> Organisation:
    """The licence holder's row, locked (one change at a time per chain); checks who acts."""
    may_change(by)
    if kind not in KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(KINDS)}", field="kind")
    row = session.execute(
        select(Organisation).where(col(Organisation.code) == code).with_for_update()
    ).scalar_one_or_none()
    facts = register_of(session, [code]).get(code)
    if row is None or facts is None:
        raise NotFound(f"no organisation {code[:32]}", field="org")
    if by is not SYSTEM and not can_read_region(by, facts.region):
        raise Forbidden(f"{code} is outside your region", field="org")
    if facts.kind != HOLDER_KIND[kind]:
        raise ValidationFailed(
            f"a {kind} licence is held by a {HOLDER_KIND[kind]}; {code} is a {facts.kind}",
            field="kind",
        )
    return row


def issue_licence(
    *,
    session: Session,
    catalog: Catalog,
    code: str,
    by: Principal,
    kind: str,
    number: str,
    uscc: str,
    valid_from: Any,
    valid_to: Any,
    scope: Mapping[str, Any],
    now: dt.datetime | None = None,
) -> Licence:
    """Record a licence (``licence_issued``) on the holder's register chain; the licence."""
    _holder(session, code, by, kind)
    number = check_number(number)
    start, end = _day(valid_from, "valid_from"), _day(valid_to, "valid_to")
    if end < start:
        raise ValidationFailed("valid_to is before valid_from", field="valid_to")
    payload = {
        "licence": kind,
        "number": number,
        "uscc": normalise_uscc(uscc),
        "valid_from": start.isoformat(),
        "valid_to": end.isoformat(),
        SCOPE_KEY[kind]: check_scope(catalog, kind, scope),
    }
    if read_licences(session).find(number) is not None:
        raise Conflict(f"licence {number} is already in the register", field="number")
    record_org_event(
        session, code=code, by=by, event_type=LICENCE_ISSUED, payload=payload, now=now or utcnow()
    )
    found = read_licences(session, [code]).find(number)
    assert found is not None
    return found


def amend_licence(
    *,
    session: Session,
    catalog: Catalog,
    code: str,
    by: Principal,
    number: str,
    effective: Any,
    valid_to: Any = None,
    scope: Mapping[str, Any] | None = None,
    uscc: str | None = None,
    now: dt.datetime | None = None,
) -> Licence:
    """Change a licence from ``effective`` on (``licence_amended``, with the complete terms).

    What is not given stays as in force the day before ``effective``; an
    earlier ``valid_to`` revokes the licence from the day after it.
    """
    licence = read_licences(session, [code]).find(number)
    if licence is None:
        raise NotFound(f"{code} holds no licence {str(number)[:64]}", field="number")
    _holder(session, code, by, licence.kind)
    start = _day(effective, "effective")
    if start < licence.valid_from:
        raise ValidationFailed("effective is before the licence's valid_from", field="effective")
    before = licence.terms_on(start - dt.timedelta(days=1)) or licence.terms_on(start)
    before = before or licence.latest
    end = _day(valid_to, "valid_to") if valid_to is not None else before.valid_to
    if end < licence.valid_from:
        raise ValidationFailed("valid_to is before the licence's valid_from", field="valid_to")
    terms = check_scope(catalog, licence.kind, scope) if scope is not None else before.scope
    holder_code = normalise_uscc(uscc) if uscc is not None else licence.uscc
    if (end, dict(terms), holder_code) == (before.valid_to, dict(before.scope), licence.uscc):
        raise ValidationFailed("nothing to change: the terms are already so", field="number")
    payload = {
        "licence": licence.kind,
        "number": licence.number,
        "uscc": holder_code,
        "effective": start.isoformat(),
        "valid_to": end.isoformat(),
        SCOPE_KEY[licence.kind]: dict(sorted(terms.items())),
    }
    record_org_event(
        session, code=code, by=by, event_type=LICENCE_AMENDED, payload=payload, now=now or utcnow()
    )
    found = read_licences(session, [code]).find(number)
    assert found is not None
    return found


def licences_on(book: LicenceBook, code: str, day: dt.date | None) -> list[dict[str, Any]]:
    """An organisation's licences as shown (terms on ``day``; None: the latest)."""
    return [lic.to_dict(day) for lic in book.of(code)]
