"""GET /ledger: the trust anchors, public, so anyone can check completeness."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from traceability.anchoring.service import public_trust
from traceability.db import get_session
from traceability.verification.completeness import last_check


def ledger() -> Response:
    """Chain id, genesis hash, registry, owner, accepted submitters, this plant's submitter."""
    body = public_trust(current_app)
    body["last_completeness_check"] = last_check(get_session())
    return jsonify(body)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/ledger", "ledger", ledger)
