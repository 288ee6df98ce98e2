"""The handheld app at /scan (SPEC §4.4): floor staff of collectors, plants and processors."""

from __future__ import annotations

from flask import Blueprint, render_template

from traceability.accounts.models import OrgKind, Role
from traceability.web.auth import browser_login_required

bp = Blueprint("scanner", __name__, url_prefix="/scan", template_folder="templates")

#: Who records floor steps: the staff of organisations that hold devices or lots.
FLOOR_KINDS = (OrgKind.collector, OrgKind.dismantler, OrgKind.processor)
FLOOR_ROLES = (Role.operator, Role.manager)


@bp.get("/")
@browser_login_required(kinds=FLOOR_KINDS, roles=FLOOR_ROLES)
def index() -> str:
    return render_template("scan/app.html")
