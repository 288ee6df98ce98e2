"""POST /anchors: anchor everything pending now."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from traceability.accounts.models import Role
from traceability.anchoring.service import anchor_now
from traceability.api.auth import require


def anchor() -> Response:
    run = anchor_now(from_request=True)
    last = run.last
    return jsonify(
        {
            "anchored": run.events_anchored,
            "batches": len(run.sent) + len(run.confirmed),
            "root": last.root if last else None,
            "tx_hash": last.tx_hash if last else None,
            "block_number": last.block_number if last else None,
        }
    )


def register(bp: Blueprint) -> None:
    bp.add_url_rule(
        "/anchors",
        "anchors_post",
        # Anchoring is the background worker's job; on demand it is for the people
        # who answer for the ledger, not every handheld (it holds a web worker).
        require(Role.manager, Role.admin)(anchor),
        methods=["POST"],
    )
