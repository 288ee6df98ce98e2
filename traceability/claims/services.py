"""Creating, recomputing and submitting claims; who may read them.

A plant's manager creates the claim for a quarter (a draft: computed from the
verified log, recomputed on demand), then submits it: the claim is frozen and
its digest recorded as a claim event, which the anchoring worker anchors like
any other. Services take keyword arguments and an explicit session.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from traceability.accounts.models import Organisation, OrgKind, Principal, Role
from traceability.accounts.services import get_org
from traceability.anchoring.trust import TrustedLedger
from traceability.bulk import collector_paused
from traceability.catalog.models import Catalog
from traceability.claims import helper_process
from traceability.claims.assess import Computed, Item, assess_devices
from traceability.claims.digest import streamed_claim_digest
from traceability.claims.discipline import (
    NO_AUDIT,
    AuditView,
    check_window,
    choose_mode,
    conditions,
    held_by,
    supplements_of,
)
from traceability.claims.events import CLAIM_SUBMITTED, record_claim_event
from traceability.claims.evidence import BatchAnchor, candidates
from traceability.claims.exports.machine import plant_of, rows_of
from traceability.claims.models import Claim, ClaimedDevice, ClaimExclusion, ClaimItem, ClaimState
from traceability.claims.policy import ClaimPolicy, load_policy
from traceability.claims.replay import exclusions_of, flags_of, total_of
from traceability.claims.stock import stock_of
from traceability.config import Settings
from traceability.custody.models import Event
from traceability.db import begin_write, utcnow
from traceability.errors import Conflict, Forbidden, NotFound, TraceabilityError
from traceability.periods import Period, parse_period
from traceability.register.scope import readable_orgs
from traceability.verification.services import Verifier

_CLAIM = Claim.__table__  # type: ignore[attr-defined]
_ITEM = ClaimItem.__table__  # type: ignore[attr-defined]
_EXCLUSION = ClaimExclusion.__table__  # type: ignore[attr-defined]
_CLAIMED = ClaimedDevice.__table__  # type: ignore[attr-defined]
_EVENT = Event.__table__  # type: ignore[attr-defined]

log = logging.getLogger(__name__)

_WRITE_CHUNK = 2_000
#: How often a create is retried when another claim took some of its devices meanwhile.
ATTEMPTS = 3


class ClaimBusy(Conflict):
    code = "claim_busy"


@dataclass(frozen=True)
class Plan:
    """What a claim is before it is computed: its mode, the claims it supplements, the
    policy, the audit findings of the plant's devices, the devices it must not count again
    (an earlier claim of the quarter holds them) and the enterprise conditions."""

    mode: str = "yuan"
    supplements: list[str] | None = None
    policy: ClaimPolicy = field(default_factory=load_policy)
    findings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    held: frozenset[str] = frozenset()
    conditions: dict[str, Any] | None = None

    def assess_args(self, qr_ids: Sequence[str]) -> dict[str, Any]:
        """What ``assess_devices`` takes of the plan, for ``qr_ids``."""
        return {
            "policy": self.policy,
            "findings": {q: self.findings[q] for q in qr_ids if q in self.findings},
            "quantity_tiers": self.policy.quantity.tiers if self.mode == "quantity" else None,
        }


def plan_claim(
    session: Session,
    catalog: Catalog,
    *,
    org: Organisation,
    quarter: Period,
    supplementary: bool = False,
    mode: str | None = None,
    policy: ClaimPolicy | None = None,
    audit: AuditView = NO_AUDIT,
    now: dt.datetime,
) -> Plan:
    """The plan of the plant's claim of ``quarter`` (refused if it may not be made)."""
    policy = policy or load_policy()
    supplements = supplements_of(session, org.code, quarter, supplementary)
    return Plan(
        mode=choose_mode(catalog, policy, quarter, org.region, mode),
        supplements=supplements,
        policy=policy,
        findings=dict(audit.by_device),
        held=frozenset(held_by(session, supplements or [])),
        conditions=conditions(session, org.code, quarter, audit, now),
    )


def compute(
    session: Session,
    catalog: Catalog,
    *,
    plant: str,
    region: str,
    period: Period,
    ledger: TrustedLedger,
    claim_id: int | None = None,
    settings: Settings | None = None,
    plan: Plan | None = None,
) -> Computed:
    """Assess every candidate device of the plant and period (no writes); ``plan``: the
    claim's mode, policy and findings, and the devices an earlier claim holds (not counted).

    With ``settings`` (how another process opens the database and the ledger)
    a large claim's second half is assessed in a helper process meanwhile.
    """
    plan = plan or Plan()
    qr_ids = [q for q in candidates(session, plant, period) if q not in plan.held]
    args: dict[str, Any] = {"plant": plant, "region": region, "period": period,
                            "claim_id": claim_id, **plan.assess_args(qr_ids)}  # fmt: skip
    split = helper_process.split_point(settings, len(qr_ids))
    if settings is None or split is None:
        return assess_devices(session, catalog, qr_ids, ledger=ledger, **args)
    own = {"ledger": ledger, "verifier": Verifier.for_ledger(session, ledger), **args}
    with helper_process.Helper(settings, ledger) as other:
        parts = other.assess(qr_ids[split:], **args)
        result = assess_devices(session, catalog, qr_ids[:split], **own)
        for n, (part, future) in enumerate(parts):
            if other.take(n):  # not started by the helper (it works backwards): done here
                result.extend(assess_devices(session, catalog, part, **own))
                continue
            try:
                done = future.result()
            except BrokenProcessPool as exc:  # it could not start, or died: done here
                log.warning("the claim's helper process failed (%s); assessing here", exc)
                done = assess_devices(session, catalog, part, **own)
            assert done is not None  # the helper skips only parts taken here
            result.extend(done)
    return result


def digest_of(claim: Claim, items: list[Item] | None = None) -> str:
    """The claim's digest from ``items`` (default: as stored) and its lines and schedules."""
    devices: Iterable[tuple[str, str, int, list[str]]] = (
        ((i.qr_id, i.tier, i.rate_yuan, i.event_digests) for i in items)
        if items is not None
        # Sorted here, not by the database: a collation must not decide the order.
        else sorted(tuple(r) for r in _item_rows(claim))
    )
    return streamed_claim_digest(
        code=claim.code,
        org=claim.org,
        period=claim.period,
        schedules=claim.schedules,
        lines=claim.lines,
        devices=devices,
        mode=claim.mode,
        supplements=claim.supplements,
    )


def _item_rows(claim: Claim) -> Any:
    session = Session.object_session(claim)
    assert session is not None
    return session.execute(
        select(_ITEM.c.qr_id, _ITEM.c.tier, _ITEM.c.rate_yuan, _ITEM.c.event_digests).where(
            _ITEM.c.claim_id == claim.id
        )
    )


def _require_manager(principal: Principal) -> None:
    if principal.role not in (Role.manager,) or principal.org_kind != OrgKind.dismantler:
        raise Forbidden("only a dismantling plant's manager prepares its claims", field="role")


def create_claim(
    *,
    session: Session,
    catalog: Catalog,
    principal: Principal,
    period: str,
    ledger: TrustedLedger,
    now: dt.datetime | None = None,
    settings: Settings | None = None,
    supplementary: bool = False,
    mode: str | None = None,
    policy: ClaimPolicy | None = None,
    audit: AuditView = NO_AUDIT,
) -> tuple[Claim, bool]:
    """The plant's draft for ``period``, computed anew (created, or its open draft recomputed).

    Returns the claim and whether it is new. The quarter must be closed and within
    the claim window at ``now``; once a claim of it was submitted, a further one must
    be ``supplementary`` (补报). ``mode``: yuan or quantity (None: as the schedules
    say); ``policy``: the claim policy; ``audit``: the audit's findings, for the row
    flags and the enterprise conditions. Devices another claim holds are
    excluded; if one is claimed by someone else while this one is computed,
    the database refuses the second hold and the computation is redone.
    ``settings``: how a helper process opens the database and the ledger, so a
    large claim is assessed on two cores (None: all in this process).
    """
    _require_manager(principal)
    quarter = parse_period(period, months=False)
    now = now or utcnow()
    check_window(quarter, now, window_days(settings))
    org = get_org(session, principal.org_code)
    plan = plan_claim(session, catalog, org=org, quarter=quarter, supplementary=supplementary,
                      mode=mode, policy=policy, audit=audit, now=now)  # fmt: skip
    with collector_paused(collect_after=True):  # 100,000 devices' figures held at once
        for _ in range(ATTEMPTS):
            session.rollback()  # nothing of the request's reads is held across the computation
            draft = _open_draft(session, org.code, quarter)
            computed = compute(session, catalog, plant=org.code, region=org.region,
                               period=quarter, ledger=ledger, settings=settings, plan=plan,
                               claim_id=draft.id if draft else None)  # fmt: skip
            try:
                claim = _write(
                    session, catalog, principal, org.region, quarter, draft, computed, now, plan
                )
            except IntegrityError:
                session.rollback()
                continue
            return claim, draft is None
    raise ClaimBusy(
        f"other claims kept taking devices of {quarter.name}; try again", field="period"
    )


def window_days(settings: Settings | None) -> int:
    """The claim window (``TRACE_CLAIM_WINDOW_DAYS``; its default without settings)."""
    if settings is not None:
        return settings.claim_window_days
    default: int = Settings.model_fields["claim_window_days"].default
    return default


def _open_draft(session: Session, org: str, quarter: Period) -> Claim | None:
    """The plant's open draft of ``quarter``, if any."""
    return session.execute(
        select(Claim).where(
            col(Claim.org) == org,
            col(Claim.period) == quarter.name,
            col(Claim.state) == ClaimState.draft,
            # A row edited back to draft is not one: its submission event says so.
            ~exists().where(_EVENT.c.claim == col(Claim.code), _EVENT.c.type == CLAIM_SUBMITTED),
        )
    ).scalar_one_or_none()


def _write(
    session: Session,
    catalog: Catalog,
    principal: Principal,
    region: str,
    quarter: Period,
    draft: Claim | None,
    computed: Computed,
    now: dt.datetime,
    plan: Plan,
) -> Claim:
    """Write the computed figures as the plant's draft of ``quarter`` (its old rows replaced)."""
    begin_write(session)
    if draft is not None:
        claim = _cleared_draft(session, draft)
    else:
        claim = _new_claim(session, principal, region, quarter, now)
    claim.mode, claim.supplements = plan.mode, plan.supplements
    claim.conditions, claim.policy = plan.conditions, plan.policy.ref()
    lines = computed.lines(catalog)
    claim.lines = lines
    claim.schedules = sorted(
        (_tiers_only(s) if plan.mode == "quantity" else s for s in computed.schedules.values()),
        key=lambda s: s["id"],
    )
    claim.units = len(computed.items)
    claim.total_yuan = sum(line["amount"] for line in lines)
    claim.excluded = len(computed.exclusions)
    claim.computed_at = now
    claim.digest = digest_of(claim, computed.items)
    session.add(claim)
    session.flush()
    claim_id = claim.id
    assert claim_id is not None
    _insert_rows(session, claim_id, computed)
    session.commit()
    return claim


def _tiers_only(schedule: dict[str, Any]) -> dict[str, Any]:
    """A schedule a quantity certification applied for its tiers only (no yuan)."""
    return {**schedule, "label": "仅用于分档，数量核定不计金额 tiers only: quantity certification, "
            "no yuan"}  # fmt: skip


def _cleared_draft(session: Session, draft: Claim) -> Claim:
    """The draft, still one under the write lock, without its devices and exclusions."""
    current = session.execute(select(_CLAIM.c.state).where(_CLAIM.c.id == draft.id)).scalar()
    if current != ClaimState.draft:
        raise Conflict(f"claim {draft.code} was submitted meanwhile", field="period")
    claim = session.get(Claim, draft.id, populate_existing=True)
    assert claim is not None
    for table in (_ITEM, _EXCLUSION, _CLAIMED):
        session.execute(delete(table).where(table.c.claim_id == claim.id))
    return claim


def _new_claim(
    session: Session, principal: Principal, region: str, quarter: Period, now: dt.datetime
) -> Claim:
    """A new draft, numbered after the plant's claims of ``quarter`` so far."""
    count = session.execute(
        select(func.count()).where(
            _CLAIM.c.org == principal.org_code, _CLAIM.c.period == quarter.name
        )
    ).scalar_one()
    return Claim(
        code=f"{principal.org_code}-{quarter.name}-{count + 1}",
        org=principal.org_code,
        region=region,
        period=quarter.name,
        state=ClaimState.draft,
        created_by=principal.username,
        created_at=now,
        computed_at=now,
        digest="",
    )


def _insert_rows(session: Session, claim_id: int, computed: Computed) -> None:
    """The claim's devices (holding each in ``claimed_device``) and exclusions, in chunks:
    100,000 devices' rows are not built at once."""
    anchors: dict[BatchAnchor, dict[str, Any]] = {}

    def anchored(anchor: BatchAnchor | None) -> dict[str, Any] | None:
        """One dict per anchor batch, shared by its devices' rows."""
        if anchor is None:
            return None
        if anchor not in anchors:
            anchors[anchor] = dataclasses.asdict(anchor)
        return anchors[anchor]

    for start in range(0, len(computed.items), _WRITE_CHUNK):
        items = computed.items[start : start + _WRITE_CHUNK]
        # The claimed_device primary key refuses a device another claim holds.
        session.execute(
            insert(_CLAIMED),
            [{"qr_id": i.qr_id, "claim_id": claim_id, "rejected": False} for i in items],
        )
        session.execute(insert(_ITEM), [i.row(claim_id, anchored(i.anchor)) for i in items])
    for start in range(0, len(computed.exclusions), _WRITE_CHUNK):
        exclusions = computed.exclusions[start : start + _WRITE_CHUNK]
        for exclusion in exclusions:
            exclusion["claim_id"] = claim_id
        session.execute(insert(_EXCLUSION), exclusions)


def get_claim(session: Session, principal: Principal, claim_id: int) -> Claim:
    """The claim, if ``principal`` may read it: its plant's managers, auditors and admins
    of the plant's region (``register.scope``)."""
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound(f"no claim {claim_id}", field="id")
    if principal.role != Role.operator and readable_orgs(session, principal, [claim.org]):
        return claim
    raise Forbidden(f"claim {claim_id} is outside your records", field="id")


def get_claim_by_code(session: Session, code: str) -> Claim:
    claim = session.execute(select(Claim).where(col(Claim.code) == code)).scalar_one_or_none()
    if claim is None:
        raise NotFound(f"no claim {code}", field="claim")
    return claim


def submit_claim(
    *,
    session: Session,
    principal: Principal,
    claim_id: int,
    now: dt.datetime | None = None,
    settings: Settings | None = None,
) -> Claim:
    """Freeze the draft and record its digest as a claim event (anchored by the worker);
    within the quarter's claim window at ``now``."""
    _require_manager(principal)
    get_claim(session, principal, claim_id)  # may they?
    now = now or utcnow()
    begin_write(session)
    claim = session.get(Claim, claim_id, populate_existing=True)
    assert claim is not None
    if claim.state != ClaimState.draft or was_submitted(session, claim):
        raise Conflict(f"claim {claim.code} was submitted: it is not a draft", field="id")
    check_window(parse_period(claim.period, months=False), now, window_days(settings))
    if claim.supplements and not claim.lines:
        raise Conflict(f"supplement {claim.code} adds no device: nothing to submit", field="id")
    digest = digest_of(claim)
    if digest != claim.digest:
        raise TraceabilityError(
            f"claim {claim.code}'s records no longer give its digest; recompute the draft",
            field="id",
        )
    record_claim_event(session, claim, principal, CLAIM_SUBMITTED, _submission(session, claim,
                       digest), now)  # fmt: skip
    claim.state = ClaimState.submitted
    claim.submitted_at, claim.submitted_by = now, principal.username
    session.add(claim)
    session.commit()
    return claim


def _submission(session: Session, claim: Claim, digest: str) -> dict[str, Any]:
    """What the submission event anchors (SPEC §3: a replay takes the anchored figures)."""
    return {
        "digest": digest,
        "period": claim.period,
        # From the lines the digest covers, not the row's columns (an edited column must
        # not be anchored).
        "units": sum(int(line["units"]) for line in claim.lines),
        "total_yuan": total_of(claim.lines),
        "schedules": [{"id": s["id"], "sha256": s["sha256"]} for s in claim.schedules],
        # The exclusions and their reasons, anchored so that they are replayed too.
        "excluded": exclusions_of(session, claim),
        "mode": claim.mode,
        "supplements": claim.supplements,
        # The row flags, the policy that decided them and the conditions as stated.
        "flags": flags_of(session, claim),
        "policy": claim.policy,
        "conditions": claim.conditions,
        # The device rows of the export beyond the digest, and the plant as stated: a file
        # is checked against them with only the chain (``claims.filecheck``).
        "rows": rows_of(session, claim),
        "plant": plant_of(session, claim),
        # The plant's stock per category and outputs per fraction over the quarter: the
        # export's stock and outputs sheets are checked against them (issue 18 item 5).
        "stock": stock_of(session, claim.org, parse_period(claim.period, months=False)),
    }


def was_submitted(session: Session, claim: Claim) -> bool:
    """Whether the claim's events hold its submission (whatever its row's state says)."""
    found = session.execute(
        select(_EVENT.c.id)
        .where(_EVENT.c.claim == claim.code, _EVENT.c.type == CLAIM_SUBMITTED)
        .limit(1)
    ).first()
    return found is not None


def draft_to_recompute(session: Session, principal: Principal, claim_id: int) -> Claim:
    """The claim a manager asks to recompute, if it is still a draft (``create_claim`` with
    its quarter recomputes it)."""
    _require_manager(principal)
    claim = get_claim(session, principal, claim_id)
    if claim.state != ClaimState.draft or was_submitted(session, claim):
        raise Conflict(
            f"claim {claim.code} was submitted: it is frozen", field="id", why="submitted"
        )
    return claim
