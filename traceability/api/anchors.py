"""POST /anchors: anchor everything pending now."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from traceability.anchoring.service import anchor_now
from traceability.api.auth import require


def anchor() -> Response:
    run = anchor_now()
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
        require("operator", "manager", "admin")(anchor),
        methods=["POST"],
    )
