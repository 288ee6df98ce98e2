"""Findings worked as cases (issue 20 item 2): the list, a case's timeline, its steps.

Every page, export and action reads the plant through ``audit.cases``'s
scope check (an auditor of the plant's region; its manager): another
region's auditor gets a 403, a manager sees their own plant's cases only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

from ledger.errors import LedgerError
from traceability.accounts.models import Principal, Role, User
from traceability.anchoring.service import anchor_now
from traceability.app import current_service, current_trace, get_session
from traceability.audit.cases import (
    AWAITING_PLANT,
    CLOSED,
    STATES,
    Case,
    CaseAction,
    CaseKey,
    act_on_case,
    check_case_reader,
    key_of,
    key_of_code,
    load_case_reasons,
    plant_cases,
    plant_of_code,
    verified_case,
)
from traceability.audit.findings import Finding
from traceability.audit.listing import app_ruleset, snapshot_for
from traceability.audit.ruleset import SEVERITIES
from traceability.audit.sample_outcomes import SAMPLE_RULE, SAMPLE_RULE_EN, SAMPLE_RULE_ZH
from traceability.audit.snapshots import AuditPending, SnapshotCache
from traceability.errors import TraceabilityError, ValidationFailed
from traceability.reports.devices import open_reader
from traceability.web.auth import browser_login_required, safe_next
from traceability.web.i18n import current_language
from traceability.web.portal.anomalies import LOT_RULES
from traceability.web.portal.exports import table_response
from traceability.web.portal.scope import PORTAL_ROLES, current_scope, requested_paging

PER_PAGE = 50


@dataclass(frozen=True)
class CaseRow:
    """A case with what its finding says (``finding`` None: a case no audit rule found)."""

    case: Case
    finding: Finding | None
    severity: str
    title: str
    detail: str

    @property
    def key(self) -> CaseKey:
        return self.case.key


def all_findings() -> list[Finding] | None:
    """The findings of everything so far (None: the audit is being computed)."""
    try:
        cache = current_service(SnapshotCache)
        return list(snapshot_for(get_session(), current_trace(), cache, None).findings)
    except AuditPending:
        return None


def case_rows(plants: list[str], findings: list[Finding]) -> list[CaseRow]:
    """Every case of ``plants``: one per finding identity, then the cases no rule found."""
    session, ruleset = get_session(), app_ruleset()
    zh = current_language() == "zh-CN"
    recorded: dict[str, Case] = {}
    for plant in plants:
        recorded.update(plant_cases(session, plant))
    rows: dict[str, CaseRow] = {}
    wanted = set(plants)
    for f in findings:
        key = key_of(f)
        if f.org not in wanted or key.code in rows:
            continue
        spec = ruleset.rule(f.rule)
        case = recorded.get(key.code) or Case(key)
        title = spec.zh if zh else spec.en
        rows[key.code] = CaseRow(
            case, f, f.severity_of(spec), title, f.detail(spec, "zh" if zh else "en")
        )
    for code, case in recorded.items():
        if code not in rows:
            title = SAMPLE_RULE_ZH if zh else SAMPLE_RULE_EN
            known = case.key.rule == SAMPLE_RULE or case.key.rule in ruleset.ids
            if known and case.key.rule != SAMPLE_RULE:
                spec = ruleset.rule(case.key.rule)
                title = spec.zh if zh else spec.en
            rows[code] = CaseRow(case, None, "high" if case.key.rule == SAMPLE_RULE else "low",
                                 title, _opened_detail(case, zh))  # fmt: skip
    rank = {str(s): i for i, s in enumerate(SEVERITIES)}
    return sorted(
        rows.values(), key=lambda r: (not r.case.is_open, rank.get(r.severity, 9), r.key.code)
    )


def _opened_detail(case: Case, zh: bool) -> str:
    """What a case no rule found says of itself: the sample (period) whose video it is."""
    opened = next((s for s in case.steps if s.type == "case_opened"), None)
    period = str(opened.payload.get("period", "")) if opened else ""
    if not period:
        return case.key.subject
    if zh:
        return f"{period} 抽样视频核对：设备 {case.key.subject} 与记录不符"
    return f"Video review of the {period} sample: device {case.key.subject} does not match"


def open_high_cases(plants: list[str], devices: set[str] | None = None) -> list[CaseRow] | None:
    """The open high-severity cases of ``plants`` (of ``devices``, when given)."""
    findings = all_findings()
    if findings is None:
        return None
    rows = [r for r in case_rows(plants, findings) if r.case.is_open and r.severity == "high"]
    if devices is not None:
        rows = [r for r in rows if _devices(r) & devices]
    return rows


def _devices(row: CaseRow) -> set[str]:
    if row.finding is not None:
        return set(row.finding.devices) | {row.finding.subject}
    return {row.key.subject}


def _filters() -> tuple[str | None, str, str | None]:
    plant = (request.args.get("plant") or "")[:32] or None
    state = (request.args.get("state") or "open")[:16]
    severity = (request.args.get("severity") or "")[:16] or None
    if state not in (*STATES, "all", "open"):
        raise ValidationFailed(f"state must be one of {', '.join(STATES)} or all", field="state")
    if severity is not None and severity not in SEVERITIES:
        raise ValidationFailed(f"severity must be one of {', '.join(SEVERITIES)}", field="severity")
    return plant, state, severity


def _listed() -> tuple[list[CaseRow] | None, str | None, str, str | None]:
    plant, state, severity = _filters()
    scope = current_scope()
    plants = [p.code for p in scope.plants]
    if plant is not None:
        plants = [scope.plant(plant).code]  # 403 outside the scope
    findings = all_findings()
    if findings is None:
        return None, plant, state, severity
    rows = case_rows(plants, findings)
    if state == "open":
        rows = [r for r in rows if r.case.is_open]
    elif state != "all":
        rows = [r for r in rows if r.case.state == state]
    if severity is not None:
        rows = [r for r in rows if r.severity == severity]
    return rows, plant, state, severity


def case_list() -> str:
    paging = requested_paging(PER_PAGE)
    rows, plant, state, severity = _listed()
    total = len(rows or [])
    pages = paging.pages(total)
    return render_template(
        "portal/cases.html", rows=paging.window(rows or []), pending=rows is None, total=total,
        plant=plant, state=state, severity=severity, states=STATES, severities=SEVERITIES,
        plants=current_scope().plants, page=min(paging.page, pages), pages=pages,
        org_names={code: o.name for code, o in current_scope().orgs.items()},
        **case_words(),
    )  # fmt: skip


def case_export(fmt: str) -> Response:
    rows, _plant, _state, _severity = _listed()
    words = case_words()
    header = [_("Case"), _("Severity"), _("Rule"), _("Organisation"), _("Subject"),
              _("Detail"), _("State"), _("Assigned to"), _("Closing reason"),
              _("Closed (Beijing time, UTC+8)"), _("Steps")]  # fmt: skip
    table = [
        [r.key.code, _(r.severity), r.title, r.key.org, r.key.subject, r.detail,
         words["state_name"](r.case.state), r.case.assignee or "",
         words["reason_name"](r.case.reason), r.case.closed_at or "", len(r.case.steps)]
        for r in rows or []
    ]  # fmt: skip
    return table_response("cases", fmt, header, table)


def case_page(code: str, error: str | None = None, status: int = 200) -> tuple[str, int]:
    session = get_session()
    if error:
        session.rollback()
    plant = plant_of_code(code)
    check_case_reader(session, g.principal, plant)
    findings = all_findings() or []
    key = key_of_code(session, code, findings)
    case = verified_case(session, open_reader(session, current_trace().ledger), key)
    related = [f for f in findings if key_of(f) == key]
    row = next((r for r in case_rows([plant], related) if r.key == key), None)
    return render_template(
        "portal/case.html", case=case, row=row, error=error,
        org=current_scope().orgs.get(plant), auditors=region_auditors(g.principal),
        done=request.args.get("done"), **case_words(),
    ), status  # fmt: skip


def act(code: str) -> Response | tuple[str, int]:
    """One step of a case from a form; what is refused, the case page with a 4xx naming it."""
    session = get_session()
    try:
        plant = plant_of_code(code)
        check_case_reader(session, g.principal, plant)
        key = key_of_code(session, code, all_findings() or [])
        action = _action(request.form)
        act_on_case(session, g.principal, key, action, current_trace().now())
    except TraceabilityError as exc:
        return case_page(code, _problem(exc), exc.status)
    with contextlib.suppress(LedgerError):  # else it stays pending: the worker anchors it
        anchor_now(current_trace().engine, current_trace().ledger, from_request=True)
    back = safe_next(request.form.get("next"))
    if back:
        return redirect(back)
    return redirect(url_for("portal.case", code=code, done=action.action) + "#timeline")


def _action(form: Any) -> CaseAction:
    fields = ("action", "text", "assignee", "reason", "note")
    try:
        return CaseAction(**{k: form.get(k) or None for k in fields})  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = [str(p) for p in first["loc"]]
        raise ValidationFailed(str(first["msg"]), field=loc[-1] if loc else "action") from None


def _problem(exc: TraceabilityError) -> str:
    field = exc.field or ""
    known = {
        "reason": _("Choose a closing reason code."),
        "note": _("This closing reason needs a note."),
        "text": _("Write the text of this step."),
        "assignee": _("Choose an auditor of this plant's region."),
    }
    if field in known:
        return f"{known[field]} ({field})"
    return _("The request was refused (%(field)s): %(message)s", field=field, message=exc.message)


def region_auditors(principal: Principal) -> list[str]:
    """The auditors who may be assigned a case: active auditors of the user's regulator."""
    if principal.role != Role.auditor:
        return []
    user = User.__table__.c  # type: ignore[attr-defined]
    query = select(user.username).where(
        user.org_id == principal.org_id, user.role == Role.auditor, user.is_active.is_(True)
    )
    return sorted(str(u) for u in get_session().execute(query).scalars())


STATE_NAMES = {
    "open": ("待处理", "open"),
    AWAITING_PLANT: ("待企业答复", "awaiting the plant"),
    "answered": ("企业已答复", "answered"),
    CLOSED: ("已结案", "closed"),
}
STEP_NAMES = {
    "case_opened": ("立案", "opened"),
    "case_assigned": ("指派", "assigned"),
    "case_commented": ("备注", "comment"),
    "case_info_req": ("要求企业补充说明", "information requested"),
    "case_answered": ("企业答复", "plant answered"),
    "case_closed": ("结案", "closed"),
}


def case_words() -> dict[str, Any]:
    zh = current_language() == "zh-CN"
    reasons = load_case_reasons().reasons

    def reason_name(code: str | None) -> str:
        if not code:
            return ""
        r = reasons.get(code)
        return (r.zh if zh else r.en) if r else code

    return {
        "zh": zh,
        "case_reasons": reasons,
        "reason_name": reason_name,
        "state_name": lambda s: STATE_NAMES.get(s, (s, s))[0 if zh else 1],
        "step_name": lambda t: STEP_NAMES.get(t, (t, t))[0 if zh else 1],
        "is_auditor": g.principal.role == Role.auditor,
        "is_manager": g.principal.role == Role.manager,
        "lot_rules": LOT_RULES,
    }


def register(bp: Blueprint) -> None:
    readers = browser_login_required(roles=PORTAL_ROLES)
    workers = browser_login_required(roles=(Role.auditor, Role.manager))
    bp.add_url_rule("/cases", "cases", readers(case_list))
    bp.add_url_rule("/cases.<any(csv, xlsx):fmt>", "cases_export", readers(case_export))
    bp.add_url_rule("/cases/<code>", "case", readers(case_page))
    bp.add_url_rule("/cases/<code>", "case_act", workers(act), methods=["POST"])


def device_case_words(findings: list[Any] | None, qr_id: str, plants: set[str]) -> dict[str, Any]:
    """What the device page needs to show each finding's case and its close form:
    ``case_of(finding)`` (None for a plant the reader may not read), and the reviewers'
    cases on the device no finding names (``device_cases``: a sample's mismatch)."""
    readable = set(current_scope().orgs)
    session, cases = get_session(), {}
    for plant in sorted(({f.org for f in findings or []} | plants) & readable):
        cases.update(plant_cases(session, plant))

    def case_of(f: Any) -> Case | None:
        if f.org not in readable:
            return None
        key = CaseKey(f.rule, f.org, f.subject)
        return cases.get(key.code) or Case(key)

    named = {CaseKey(f.rule, f.org, f.subject).code for f in findings or []}
    zh = current_language() == "zh-CN"
    own = [
        CaseRow(c, None, "high" if c.key.rule == SAMPLE_RULE else "low",
                SAMPLE_RULE_ZH if zh else SAMPLE_RULE_EN, _opened_detail(c, zh))
        for code, c in sorted(cases.items())
        if c.key.subject == qr_id and code not in named
    ]  # fmt: skip
    return {"case_of": case_of, "device_cases": own, **case_words()}


def claim_open_cases(
    plant: str, claim_code: str, in_claim: Callable[[set[str]], set[str]]
) -> dict[str, Any]:
    """The open high-severity cases of a claim (its findings name it, or a reviewer's case
    names one of its devices: ``in_claim`` says which of some devices it holds), with the
    words to show them."""
    rows = open_high_cases([plant])
    if rows is not None:
        loose = {r.key.subject for r in rows if r.finding is None}
        held = in_claim(loose) if loose else set()
        rows = [
            r for r in rows
            if (r.finding is not None and claim_code in r.finding.claims)
            or (r.finding is None and r.key.subject in held)
        ]  # fmt: skip
    return {"open_cases": rows, "plant_code": plant, **case_words()}
