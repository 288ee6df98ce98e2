"""Administration pages (issue 20 item 7): users, their API tokens and label sheets, for
plant managers and regulator admins, with the CLI's rules (``register.administration``).

Views parse the form, call the service and render; a refused change is the page again
with its reason in the reader's language and a 4xx status, and writes nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlmodel import col, select
from werkzeug.wrappers import Response

from traceability.accounts.models import Role
from traceability.app import get_session
from traceability.errors import Conflict, Forbidden, NotFound, TraceabilityError
from traceability.labels.models import LabelSheet
from traceability.labels.services import mint_sheet
from traceability.register import administration as admin
from traceability.register.log import register_of
from traceability.web.auth import browser_login_required

LABEL_KINDS = ("collector", "dismantler")


def admin_problem(exc: TraceabilityError) -> str:
    """Why a change was refused, in the page's language (the domain's message is English)."""
    if isinstance(exc, Forbidden):
        return _("You do not administer this account or organisation.")
    if isinstance(exc, Conflict):
        return _("This username is taken.")
    if isinstance(exc, NotFound):
        return _("No such user or token.")
    if isinstance(exc, admin.OwnAccount):
        return _("You cannot disable yourself or change your own role.")
    texts = {
        "username": _("A username has 2–64 lower-case letters, digits, '.', '-' or '_'."),
        "role": _(
            "That role is not allowed for this organisation: a regulator's users are "
            "auditors or admins, other organisations' are operators or managers."
        ),
        "password": _("A password of at least 8 characters is required."),
        "count": _("A sheet holds from 1 to 1000 labels."),
    }
    return texts.get(exc.field or "", _("This change was refused."))


def _users_page(problem: str | None = None, status: int = 200) -> tuple[str, int]:
    session, principal = get_session(), g.principal
    orgs = sorted(admin.manageable_orgs(session, principal))
    names = {code: facts.name for code, facts in register_of(session, orgs).items()}
    page = render_template(
        "portal/admin_users.html", accounts=admin.accounts(session, principal),
        tokens=admin.tokens(session, principal), orgs=orgs, names=names, roles=list(Role),
        me=principal.username, problem=problem, form=request.form,
    )  # fmt: skip
    return page, status


def users_page() -> tuple[str, int]:
    return _users_page()


def _act(change: Any) -> Response | tuple[str, int]:
    try:
        change()
    except TraceabilityError as exc:
        get_session().rollback()
        return _users_page(admin_problem(exc), exc.status)
    return redirect(url_for("portal.admin_users"))


def add_user() -> Response | tuple[str, int]:
    form = request.form
    return _act(lambda: admin.add_account(
        get_session(), g.principal, username=form.get("username", "").strip()[:64],
        org_code=form.get("org", "")[:32], role=form.get("role", "")[:16],
        password=form.get("password", "")[:200],
    ))  # fmt: skip


def set_role(username: str) -> Response | tuple[str, int]:
    role = request.form.get("role", "")[:16]
    return _act(lambda: admin.set_role(get_session(), g.principal, username, role))


def set_active(username: str) -> Response | tuple[str, int]:
    active = request.form.get("active") == "1"
    return _act(lambda: admin.set_active(get_session(), g.principal, username, active=active))


def revoke(token_id: int) -> Response | tuple[str, int]:
    return _act(lambda: admin.revoke(get_session(), g.principal, token_id))


def labels_page(problem: str | None = None, status: int = 200) -> tuple[str, int]:
    session, principal = get_session(), g.principal
    sheets = session.exec(
        select(LabelSheet).where(LabelSheet.org == principal.org_code)
        .order_by(col(LabelSheet.created_at).desc()).limit(20)
    ).all()  # fmt: skip
    page = render_template(
        "portal/admin_labels.html", sheets=sheets, problem=problem,
        may_mint=principal.org_kind in LABEL_KINDS,
    )  # fmt: skip
    return page, status


def mint() -> Response | tuple[str, int]:
    raw = request.form.get("count", "").strip()
    count: object = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 5 else raw
    try:
        mint_sheet(session=get_session(), principal=g.principal, count=count)
    except TraceabilityError as exc:
        get_session().rollback()
        return labels_page(admin_problem(exc), exc.status)
    return redirect(url_for("portal.admin_labels"))


def register(bp: Blueprint) -> None:
    guard = browser_login_required(roles=admin.ADMINISTRATORS)
    bp.add_url_rule("/admin/users", "admin_users", guard(users_page))
    bp.add_url_rule("/admin/users", "admin_add_user", guard(add_user), methods=["POST"])
    bp.add_url_rule("/admin/users/<username>/role", "admin_role", guard(set_role),
                    methods=["POST"])  # fmt: skip
    bp.add_url_rule("/admin/users/<username>/active", "admin_active", guard(set_active),
                    methods=["POST"])  # fmt: skip
    bp.add_url_rule("/admin/tokens/<int:token_id>/revoke", "admin_revoke", guard(revoke),
                    methods=["POST"])  # fmt: skip
    guard_labels = browser_login_required(roles=(Role.manager,))
    bp.add_url_rule("/admin/labels", "admin_labels", guard_labels(labels_page))
    bp.add_url_rule("/admin/labels", "admin_mint", guard_labels(mint), methods=["POST"])
