"""Licences in the organisation register, replayed from its events (SPEC §2.8).

Here, beside the organisations, because the custody checks (a layer below
the register, ``register.licensing``) read them too.

A dismantler holds a 废弃电器电子产品处理资格证书 (``dismantling``): licensed
categories with an annual capacity in units each. A processor holds a
危险废物经营许可证 (``hazardous_waste``): licensed waste categories or codes
(``HW49``, ``900-045-49``) with an annual capacity in tonnes each. Both name
the holder's 统一社会信用代码 and a validity (dates, Beijing calendar).

Licences live only in the organisation's log (like the submitter address):
``licence_issued`` carries a licence's number, holder code, validity and
scope; ``licence_amended`` the complete terms in force from its
``effective`` date (a later validity end, a new scope, or an earlier end:
revoked). For a day, the terms of the last-recorded issue or amendment
effective on or before it apply; the licence covers the day when it falls
within ``valid_from`` and those terms' ``valid_to``. Pure: no database, no Flask.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from traceability.periods import CHINA

LICENCE_ISSUED: Final = "licence_issued"
LICENCE_AMENDED: Final = "licence_amended"
LICENCE_TYPES = frozenset({LICENCE_ISSUED, LICENCE_AMENDED})

DISMANTLING: Final = "dismantling"  # 废弃电器电子产品处理资格证书
HAZARDOUS_WASTE: Final = "hazardous_waste"  # 危险废物经营许可证
LicenceKind = Literal["dismantling", "hazardous_waste"]
KINDS: tuple[LicenceKind, ...] = (DISMANTLING, HAZARDOUS_WASTE)
#: The payload key of each kind's scope: categories → units a year, HW items → tonnes a year.
SCOPE_KEY: dict[str, str] = {DISMANTLING: "categories", HAZARDOUS_WASTE: "hw_codes"}
#: Which kind of organisation holds which kind of licence.
HOLDER_KIND: dict[str, str] = {DISMANTLING: "dismantler", HAZARDOUS_WASTE: "processor"}


def china_day(when: dt.datetime) -> dt.date:
    """The calendar day of ``when`` in Beijing: what a licence's validity is written in."""
    return when.astimezone(CHINA).date()


@dataclass(frozen=True)
class Terms:
    """What a licence allows from ``effective`` on: until ``valid_to``, ``scope`` a year."""

    effective: dt.date
    valid_to: dt.date
    #: dismantling: category → units a year; hazardous_waste: HW49 or 900-045-49 → tonnes a year
    scope: Mapping[str, int]
    event: str  # the id of the event that set them


@dataclass(frozen=True)
class Licence:
    org: str
    kind: str
    number: str
    uscc: str
    valid_from: dt.date
    terms: tuple[Terms, ...]  # in recording order: as issued, then each amendment

    def terms_on(self, day: dt.date) -> Terms | None:
        """The terms in force on ``day`` if the licence is valid then, else None."""
        if day < self.valid_from:
            return None
        recorded = [t for t in self.terms if t.effective <= day]
        current = recorded[-1] if recorded else self.terms[0]
        return current if day <= current.valid_to else None

    @property
    def latest(self) -> Terms:
        """The terms most recently recorded (what a page shows as the licence today)."""
        return self.terms[-1]

    def to_dict(self, day: dt.date | None = None) -> dict[str, Any]:
        terms = self.terms_on(day) if day is not None else self.latest
        shown = terms or self.latest
        return {
            "org": self.org,
            "kind": self.kind,
            "number": self.number,
            "uscc": self.uscc,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": shown.valid_to.isoformat(),
            "scope": dict(sorted(shown.scope.items())),
            "valid": terms is not None if day is not None else None,
            "amendments": len(self.terms) - 1,
        }


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _scope(value: Any) -> dict[str, int] | None:
    if not isinstance(value, Mapping):
        return None
    out = {str(k): v for k, v in value.items() if type(v) is int and v > 0}
    return out if len(out) == len(value) else None


@dataclass
class LicenceBook:
    """Every licence of the organisations read, by organisation; the query side of the register.

    ``anomalies`` names licence events that cannot be replayed (a payload no
    service writes): they verify as tampered and are otherwise left out.
    """

    licences: dict[str, list[Licence]] = field(default_factory=dict)
    anomalies: list[str] = field(default_factory=list)

    def of(self, org: str, kind: str | None = None) -> list[Licence]:
        return [lic for lic in self.licences.get(org, ()) if kind is None or lic.kind == kind]

    def holds_any(self, org: str, kind: str) -> bool:
        """Whether the register has any licence of ``kind`` for ``org`` (valid or not)."""
        return bool(self.of(org, kind))

    def on(self, org: str, kind: str, day: dt.date) -> list[tuple[Licence, Terms]]:
        """The licences of ``kind`` valid on ``day``, with their terms then."""
        found = [(lic, lic.terms_on(day)) for lic in self.of(org, kind)]
        return [(lic, terms) for lic, terms in found if terms is not None]

    def scope_on(self, org: str, kind: str, day: dt.date) -> dict[str, int]:
        """What ``org`` is licensed for on ``day`` (item → yearly capacity, summed over licences).

        For a dismantler: its licensed categories and annual capacity in units
        (``licensed_categories``); for a processor: its licensed waste
        categories and codes and annual capacity in tonnes.
        """
        scope: dict[str, int] = {}
        for _, terms in self.on(org, kind, day):
            for item, capacity in terms.scope.items():
                scope[item] = scope.get(item, 0) + capacity
        return scope

    def licensed_categories(self, org: str, day: dt.date) -> dict[str, int]:
        """A dismantler's licensed categories on ``day``, each with its units a year."""
        return self.scope_on(org, DISMANTLING, day)

    def find(self, number: str) -> Licence | None:
        return next(
            (lic for lics in self.licences.values() for lic in lics if lic.number == number), None
        )

    def apply(self, row: Any) -> None:
        """Replay one licence event (rows in recording order)."""
        p = row.payload if isinstance(row.payload, Mapping) else {}
        kind, number = p.get("licence"), p.get("number")
        scope = _scope(p.get(SCOPE_KEY.get(str(kind), ""), None))
        valid_to = _date(p.get("valid_to"))
        uscc = p.get("uscc")
        ok = kind in KINDS and isinstance(number, str) and scope and valid_to
        mine = self.licences.setdefault(str(row.organisation), [])
        existing = next((lic for lic in mine if lic.number == number and lic.kind == kind), None)
        if ok and row.type == LICENCE_ISSUED and existing is None and isinstance(uscc, str):
            valid_from = _date(p.get("valid_from"))
            if valid_from is not None:
                terms = Terms(valid_from, valid_to, scope, row.id)  # type: ignore[arg-type]
                mine.append(
                    Licence(str(row.organisation), kind, number, uscc, valid_from, (terms,))  # type: ignore[arg-type]
                )
                return
        effective = _date(p.get("effective"))
        if ok and row.type == LICENCE_AMENDED and existing is not None and effective:
            terms = Terms(effective, valid_to, scope, row.id)  # type: ignore[arg-type]
            changed = Licence(
                existing.org,
                existing.kind,
                existing.number,
                uscc if isinstance(uscc, str) else existing.uscc,
                existing.valid_from,
                (*existing.terms, terms),
            )
            mine[mine.index(existing)] = changed
            return
        self.anomalies.append(f"{row.type} event {row.id} of {row.organisation} cannot be replayed")


def replay_licences(rows: Iterable[Any]) -> LicenceBook:
    """The licences of the organisation events ``rows`` (recording order; others are skipped)."""
    book = LicenceBook()
    for row in rows:
        if row.type in LICENCE_TYPES:
            book.apply(row)
    return book
