"""Recording a batch of events: one unit of work, all-or-nothing per item.

1. Every item is parsed into its message (custody/parsing.py): nothing there
   depends on the database, so concurrent requests do it in parallel.
2. Everything the batch touches is read up front (custody/lookups.py, a
   handful of IN queries), every item is checked against that in-memory view
   and, only if all its checks pass, applied to it (hashed and chained).
   The first try does this without the write lock; taking it, the batch
   confirms that none of what it read has changed, then writes the accepted
   events and the rows they change (one executemany per table) and commits.
3. If something changed, the batch replays holding the lock from the start
   (rows locked in key order on PostgreSQL). A lost race (unique violation)
   rolls back and replays too, so a retried or concurrent id is a ``duplicate``
   (or, sent with other content, a ``conflict``: custody/resend.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from traceability.accounts.models import Principal
from traceability.catalog.models import Catalog
from traceability.custody.handlers import HANDLERS
from traceability.custody.lookups import preload, unchanged
from traceability.custody.messages import ItemResult
from traceability.custody.parsing import Parsed, ParsedSubmission, Submission, parse_item
from traceability.custody.resend import same_content
from traceability.custody.workspace import (
    DEFAULT_TOLERANCE_PCT,
    EventRef,
    LicenceChecks,
    Workspace,
)
from traceability.db import begin_write, utcnow
from traceability.errors import Conflict, TraceabilityError

__all__ = [
    "BeforeCommit",
    "IdConflict",
    "ItemResult",
    "Submission",
    "record_events",
    "record_submissions",
]

MAX_ATTEMPTS = 3

#: Called with the session and each submission's results once the accepted events are
#: written, before the commit: False rolls the whole unit back (e.g. EPCIS capture's
#: all-or-nothing and its check of each written event, ``epcis.capture``).
BeforeCommit = Callable[[Session, list[list[ItemResult]]], bool]


class IdConflict(Conflict):
    """An event id already used for a different event (or by another organisation)."""

    code = "id_conflict"


# -- applying ------------------------------------------------------------------------


def _apply_one(ws: Workspace, p: Parsed) -> ItemResult:
    existing = ws.events.get(p.event_id) if p.event_id else None
    if existing is not None:
        return _duplicate(ws, existing, p)
    if p.error is not None or p.message is None:
        assert p.error is not None
        return ItemResult.rejected(p.raw_id, p.error)
    message = p.message
    try:
        digest = HANDLERS[message.type](ws, message, message.id)
    except TraceabilityError as exc:
        return ItemResult.rejected(p.raw_id, exc)
    event = ws.events[message.id]
    return ItemResult(
        id=message.id, status="created", digest=digest, qr_id=event.device, lot=event.lot
    )


def _duplicate(ws: Workspace, existing: EventRef, p: Parsed) -> ItemResult:
    """The id was recorded before: the same event again, or a conflict (custody/resend.py)."""
    if existing.org != ws.principal.org_code:
        # Another organisation's event is neither confirmed nor described.
        return _conflict(existing.id, "another organisation's event")
    if p.type != existing.type:
        return _conflict(existing.id, f"a '{existing.type}' event")
    if p.message is None or not same_content(ws, existing.id, p.message):
        return _conflict(existing.id, f"a '{existing.type}' event with other content")
    return ItemResult(
        id=existing.id,
        status="duplicate",
        digest=existing.digest,
        qr_id=existing.device,
        lot=existing.lot,
    )


def _conflict(event_id: str, used_for: str) -> ItemResult:
    error = IdConflict(f"id {event_id} was already used for {used_for}", field="id")
    return ItemResult.conflict(event_id, error)


def record_events(
    *,
    session: Session,
    principal: Principal,
    catalog: Catalog,
    items: Sequence[Any],
    id_required: bool = True,
    future_skew_s: int = 300,
    dismantle_tolerance_pct: Decimal = DEFAULT_TOLERANCE_PCT,
    now: dt.datetime | None = None,
    strings_checked: bool = False,
    licence_checks: LicenceChecks = "registered",
    before_commit: BeforeCommit | None = None,
) -> list[ItemResult]:
    """Record each item all-or-nothing; commit the accepted ones together.

    ``strings_checked``: the caller knows no string in the items can fail
    ``limits.text_problem`` (api/body.py ``plain_text_body``). ``licence_checks``:
    the deployment's setting (``custody.licence_checks``). ``before_commit``
    may refuse the commit (``BeforeCommit``).
    """
    [results] = record_submissions(
        session=session,
        catalog=catalog,
        submissions=[Submission(principal, items, now)],
        id_required=id_required,
        future_skew_s=future_skew_s,
        dismantle_tolerance_pct=dismantle_tolerance_pct,
        strings_checked=strings_checked,
        licence_checks=licence_checks,
        before_commit=before_commit,
    )
    return results


def record_submissions(
    *,
    session: Session,
    catalog: Catalog,
    submissions: Sequence[Submission],
    id_required: bool = True,
    future_skew_s: int = 300,
    dismantle_tolerance_pct: Decimal = DEFAULT_TOLERANCE_PCT,
    strings_checked: bool = False,
    licence_checks: LicenceChecks = "registered",
    before_commit: BeforeCommit | None = None,
) -> list[list[ItemResult]]:
    """Several submissions, applied in order as if one after the other, in one transaction.

    The same as one ``record_events`` call each, for a bulk load (the demo)
    that would otherwise pay a transaction, a round of lookups and a commit
    per handheld sync.
    """
    parsed = _parsed(submissions, id_required, future_skew_s, strings_checked)
    # First optimistically: everything is read, checked and hashed outside the
    # write lock, which is then held only to confirm that nothing read has
    # changed and to write. If something has, the batch replays holding the
    # lock (rows locked in key order on PostgreSQL) from the start.
    for attempt in range(MAX_ATTEMPTS + 1):
        optimistic = attempt == 0
        if optimistic:
            if session.in_transaction():
                session.commit()  # e.g. the token lookup's
        else:
            begin_write(session)
            for batch in parsed:  # a replay happens now (as before this change)
                batch.now = batch.submission.now or utcnow()
        ws = Workspace(session, submissions[0].principal, catalog, parsed[0].now,
                       dismantle_tolerance_pct, licence_checks)  # fmt: skip
        try:
            reads = preload(ws, parsed, lock=not optimistic)
            results = []
            for batch in parsed:
                ws.principal, ws.now = batch.submission.principal, batch.now
                results.append([_apply_one(ws, p) for p in batch.items])
            if optimistic:
                begin_write(session)  # ends the reads' transaction, takes the lock
                if not unchanged(ws, reads):
                    session.rollback()
                    continue
            ws.write()
            if before_commit is not None and not before_commit(session, results):
                session.rollback()
                return results
            session.commit()
            return results
        except (IntegrityError, OperationalError) as exc:
            # A concurrent writer took an id or a QR ID first (or PostgreSQL
            # chose us as a deadlock/serialisation victim): replay against the
            # committed state, where the winner's events show as duplicates.
            session.rollback()
            if attempt == MAX_ATTEMPTS or not _retryable(exc):
                raise
    raise AssertionError("unreachable")


def _parsed(
    submissions: Sequence[Submission],
    id_required: bool,
    future_skew_s: int,
    strings_checked: bool,
) -> list[ParsedSubmission]:
    """Each submission's items parsed against its own time (none given: now)."""
    parsed = []
    for submission in submissions:
        now = submission.now or utcnow()
        context = {"now": now, "future_skew_s": future_skew_s}
        items = [
            parse_item(
                i,
                id_required=id_required,
                context=context,
                strings_checked=strings_checked,
                principal=submission.principal,
            )
            for i in submission.items
        ]
        parsed.append(ParsedSubmission(submission, now, items))
    return parsed


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return sqlstate in ("40P01", "40001")  # deadlock_detected, serialization_failure
