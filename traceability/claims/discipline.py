"""Claim discipline (SPEC §2.6): closed quarters within the claim window, one claim per plant
and quarter plus explicit supplements (补报), the claim's mode, the enterprise conditions.

A quarter can be claimed from its close (midnight, China time) until
``TRACE_CLAIM_WINDOW_DAYS`` after it; an open quarter or one past the window is
refused with the reason, naming ``period``. Once a plant has submitted its claim
for a quarter, a further claim is a supplement, asked for as such: it holds only
devices no earlier claim of the quarter holds, and names the claims it supplements.

A claim is in yuan (``yuan``: a rate schedule with rates covers the quarter) or a
quantity certification (``quantity``: units by category and tier, no yuan, for
the 2024–2027 central fund, which sets no per-unit rate). Either way it states
the enterprise conditions: the plant's licence valid through the quarter, and no
open high-severity audit finding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlmodel import Session

from traceability.accounts.licences import DISMANTLING
from traceability.catalog.models import Catalog
from traceability.claims.events import CLAIM_SUBMITTED
from traceability.claims.models import Claim, ClaimedDevice, ClaimItem
from traceability.claims.policy import ClaimPolicy
from traceability.claims.rates import schedules_covering
from traceability.custody.models import Event
from traceability.db import iso
from traceability.errors import Conflict, ValidationFailed
from traceability.periods import Period, beijing_date, beijing_text
from traceability.register.licensing import read_licences

_CLAIM = Claim.__table__  # type: ignore[attr-defined]
_ITEM = ClaimItem.__table__  # type: ignore[attr-defined]
_CLAIMED = ClaimedDevice.__table__  # type: ignore[attr-defined]
_EVENT = Event.__table__  # type: ignore[attr-defined]

Mode = Literal["yuan", "quantity"]
MODES: tuple[Mode, ...] = ("yuan", "quantity")


@dataclass(frozen=True)
class AuditView:
    """What the audit's latest snapshot of everything says, handed down by the edges (the
    audit sits above the claims): each device's findings, each plant's high-severity ones.
    ``computed_at`` None: no snapshot has been computed yet."""

    computed_at: dt.datetime | None = None
    by_device: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    high_by_org: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


NO_AUDIT = AuditView()


def last_day(quarter: Period) -> dt.date:
    return beijing_date(quarter.end - dt.timedelta(microseconds=1))


def window_end(quarter: Period, window_days: int) -> dt.datetime:
    return quarter.end + dt.timedelta(days=window_days)


def check_window(quarter: Period, now: dt.datetime, window_days: int) -> None:
    """Refuse an open quarter, and one whose claim window has passed (422 on ``period``)."""
    if not quarter.closed(now):
        raise ValidationFailed(
            f"{quarter.name} is still open: a quarter can be claimed once it has closed, "
            f"at {beijing_text(quarter.end)} (Beijing time)",
            field="period",
            why="quarter_open",
        )
    closes = window_end(quarter, window_days)
    if now >= closes:
        raise ValidationFailed(
            f"the claim window of {quarter.name} closed at {beijing_text(closes)} "
            f"(Beijing time, {window_days} days after the quarter)",
            field="period",
            why="window_closed",
        )


def submitted_claims(session: Session, org: str, quarter: Period) -> list[str]:
    """Codes of the plant's claims of ``quarter`` whose submission the log holds, in order."""
    rows = session.execute(
        select(_CLAIM.c.code)
        .where(_CLAIM.c.org == org, _CLAIM.c.period == quarter.name)
        .where(
            select(_EVENT.c.id)
            .where(_EVENT.c.claim == _CLAIM.c.code, _EVENT.c.type == CLAIM_SUBMITTED)
            .exists()
        )
        .order_by(_CLAIM.c.id)
    )
    return [code for (code,) in rows]


def supplements_of(
    session: Session, org: str, quarter: Period, supplementary: bool
) -> list[str] | None:
    """The claims a new claim of ``quarter`` supplements (None: it is the quarter's claim);
    a second claim not asked for as a supplement, or a supplement of nothing, is refused."""
    earlier = submitted_claims(session, org, quarter)
    if earlier and not supplementary:
        raise Conflict(
            f"{org} has submitted its claim for {quarter.name} ({', '.join(earlier)}); a further "
            "claim is a supplement (补报): ask for it with supplementary = true",
            field="period",
            why="already_submitted",
        )
    if supplementary and not earlier:
        raise Conflict(
            f"{org} has no submitted claim for {quarter.name} to supplement: "
            "create the quarter's claim (without supplementary)",
            field="supplementary",
            why="nothing_to_supplement",
        )
    return earlier or None


def held_by(session: Session, codes: list[str]) -> set[str]:
    """The devices the claims ``codes`` hold (what a supplement must not count again): a
    device rejected in review stays held, one reinstated has left its claim."""
    if not codes:
        return set()
    return {
        qr_id
        for (qr_id,) in session.execute(
            select(_CLAIMED.c.qr_id)
            .join(_CLAIM, _CLAIM.c.id == _CLAIMED.c.claim_id)
            .where(_CLAIM.c.code.in_(codes))
        )
    }


def choose_mode(
    catalog: Catalog, policy: ClaimPolicy, quarter: Period, region: str, asked: str | None
) -> Mode:
    """``asked``, if it can apply; else yuan when a schedule covers the quarter for the
    plant's region, a quantity certification when the central fund's years do."""
    first, last = beijing_date(quarter.start), last_day(quarter)
    rated = all(schedules_covering(catalog, day, region) for day in (first, last))
    fund = policy.quantity.covers(first, last)
    if asked not in (None, *MODES):
        raise ValidationFailed("mode must be yuan or quantity", field="mode")
    if asked == "quantity" and not fund:
        raise ValidationFailed(
            f"a quantity certification is for the {policy.quantity.fund} "
            f"({policy.quantity.since} – {policy.quantity.until}), not {quarter.name}",
            field="mode",
        )
    if asked == "yuan" and not rated:
        raise ValidationFailed(
            f"no rate schedule with rates covers {quarter.name} in region {region}: "
            "ask for a quantity certification (mode = quantity)",
            field="mode",
        )
    if asked is not None:
        return "quantity" if asked == "quantity" else "yuan"
    if rated or not fund:
        return "yuan"
    return "quantity"


def conditions(
    session: Session, org: str, quarter: Period, audit: AuditView, now: dt.datetime
) -> dict[str, Any]:
    """The enterprise conditions, as the register and the audit say them at ``now``."""
    return {
        "licence": _licence_condition(session, org, quarter),
        "no_open_high_findings": _findings_condition(org, audit),
        "stated_at": iso(now),
    }


def _licence_condition(session: Session, org: str, quarter: Period) -> dict[str, Any]:
    """Whether one dismantling licence of the register is valid on every day of the quarter."""
    book = read_licences(session, [org])
    first, last = beijing_date(quarter.start), last_day(quarter)
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    licences = book.of(org, DISMANTLING)
    through = [lic for lic in licences if all(lic.terms_on(day) for day in days)]
    if through:
        lic = through[0]
        return {"met": True, "number": lic.number, "uscc": lic.uscc,
                "valid_from": lic.valid_from.isoformat(),
                "valid_to": lic.terms_on(last).valid_to.isoformat(),  # type: ignore[union-attr]
                "detail": f"licence {lic.number} valid {first} – {last}"}  # fmt: skip
    if not licences:
        detail = f"the register holds no dismantling licence of {org}"
    else:
        gaps = [day for day in days if not book.on(org, DISMANTLING, day)]
        detail = f"no licence valid on {len(gaps)} day(s) of {quarter.name}, first {gaps[0]}"
    return {"met": False, "number": licences[0].number if licences else None, "detail": detail}


def _findings_condition(org: str, audit: AuditView) -> dict[str, Any]:
    """No open high-severity finding of the plant (every finding is open until worked)."""
    if audit.computed_at is None:
        return {"met": None, "high": None, "detail": "the audit has not been computed yet"}
    high = audit.high_by_org.get(org, ())
    rules = sorted(set(high))
    return {
        "met": not high,
        "high": len(high),
        "rules": rules,
        "audit_computed_at": iso(audit.computed_at),
        "detail": f"{len(high)} open high-severity finding(s)"
        + (f": {', '.join(rules)}" if rules else ""),
    }


def changed_after_submission(session: Session, claim: Claim) -> dict[str, str]:
    """Devices of a submitted claim with events recorded after its submission (log order),
    each with what was recorded: the flag ``evidence_changed_after_submission``."""
    submitted = session.execute(
        select(_EVENT.c.seq)
        .where(_EVENT.c.claim == claim.code, _EVENT.c.type == CLAIM_SUBMITTED)
        .order_by(_EVENT.c.seq)
        .limit(1)
    ).scalar()
    if submitted is None:
        return {}
    found: dict[str, list[str]] = {}
    for device, kind in session.execute(
        select(_EVENT.c.device, _EVENT.c.type)
        .join(_ITEM, _ITEM.c.qr_id == _EVENT.c.device)
        .where(_ITEM.c.claim_id == claim.id, _EVENT.c.seq > submitted)
        .order_by(_EVENT.c.seq)
    ):
        found.setdefault(device, []).append(str(kind))
    return {
        device: f"recorded after the submission: {', '.join(kinds)}"
        for device, kinds in found.items()
    }
