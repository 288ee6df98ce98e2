"""What the video review of a sample found, device by device (issue 20 item 6).

The reviewer records per sampled device: the footage matches the records,
does not match, or there is no footage. Each is a ``sample_outcome`` event on
the sample's own chain (subject code ``SAMPLE-<plant>-<period>`` in the
``claim`` column, the regulator's records, as a case's steps: ``audit.cases``),
digested, chained and anchored. A later outcome for the same device replaces
the earlier one in what pages show; both stay in the log. A "does not match"
opens a case on the device (rule ``sample_mismatch``, high severity) in the
same transaction, unless the device already has one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlmodel import Session

from traceability import limits
from traceability.accounts.models import Principal, Role
from traceability.audit.cases import (
    CASE_OPENED,
    CaseKey,
    append_to_chain,
    check_case_reader,
    plant_cases,
    record_case_event,
)
from traceability.audit.sampling import Sample
from traceability.custody.models import Event
from traceability.db import begin_write
from traceability.errors import Conflict, Forbidden, ValidationFailed

SAMPLE_OUTCOME = "sample_outcome"
OUTCOMES = ("matches", "mismatch", "no_footage")
#: The rule a case opened by a "does not match" outcome names (not an audit rule:
#: a reviewer's finding). High severity: the records disagree with the footage.
SAMPLE_RULE = "sample_mismatch"
SAMPLE_RULE_ZH = "抽样视频与记录不符"
SAMPLE_RULE_EN = "Sampled video does not match the records"

_EVENT = Event.__table__  # type: ignore[attr-defined]


class OutcomeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    qr_id: str = Field(max_length=limits.QR_ID)
    outcome: Literal["matches", "mismatch", "no_footage"]
    note: str | None = Field(default=None, max_length=limits.REASON)


@dataclass(frozen=True)
class Outcome:
    qr_id: str
    outcome: str
    actor: str
    at: dt.datetime
    note: str | None
    case: str | None  # the case a mismatch opened (its code)


def sample_code(plant: str, period: str) -> str:
    return f"SAMPLE-{plant}-{period}"


def sample_outcomes(session: Session, plant: str, period: str) -> dict[str, Outcome]:
    """Each sampled device's latest outcome, by QR ID."""
    query = (
        select(_EVENT)
        .where(_EVENT.c.claim == sample_code(plant, period), _EVENT.c.type == SAMPLE_OUTCOME)
        .order_by(_EVENT.c.seq)
    )
    found: dict[str, Outcome] = {}
    for row in session.execute(query):
        p = row.payload if isinstance(row.payload, Mapping) else {}
        qr_id = str(p.get("qr_id") or "")
        if qr_id:
            found[qr_id] = Outcome(
                qr_id, str(p.get("outcome")), str(row.actor), row.occurred_at,
                p.get("note"), p.get("case"),
            )  # fmt: skip
    return found


def record_outcome(
    session: Session, principal: Principal, sample: Sample, request: OutcomeRequest,
    now: dt.datetime,
) -> Outcome:  # fmt: skip
    """Record one device's outcome (committed); a mismatch opens the device's case."""
    check_case_reader(session, principal, sample.plant)
    if principal.role != Role.auditor:
        raise Forbidden("only a regulator's auditor records a sample's outcome", field="role")
    if not sample.drawn or sample.block is None:
        raise Conflict(f"there is no sample of {sample.period} yet", field="period")
    if request.qr_id not in {d.qr_id for d in sample.devices}:
        raise ValidationFailed(f"{request.qr_id} is not in this sample", field="qr_id")
    note = (request.note or "").strip() or None
    begin_write(session)
    case = None
    if request.outcome == "mismatch":
        key = CaseKey(SAMPLE_RULE, sample.plant, request.qr_id)
        case = key.code
        if key.code not in plant_cases(session, sample.plant):
            opened = {"period": sample.period, "block": sample.block.number}
            record_case_event(session, principal, key, CASE_OPENED, opened, now)
    payload = {
        "qr_id": request.qr_id, "outcome": request.outcome, "period": sample.period,
        "block": sample.block.number, "block_hash": sample.block.hash,
        **({"note": note} if note else {}), **({"case": case} if case else {}),
    }  # fmt: skip
    code = sample_code(sample.plant, sample.period)
    append_to_chain(session, principal, code, SAMPLE_OUTCOME, payload, now)
    session.commit()
    return Outcome(request.qr_id, request.outcome, principal.username, now, note, case)
