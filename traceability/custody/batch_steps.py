"""Batch dismantling (SPEC §2.4): a line scans each device into a batch, then weighs
the batch's outputs per fraction when it closes (``batch_closed``).

The closing is checked as a per-device dismantling is, at batch level: outputs
over the intake of its devices plus the tolerance are refused, and so is a
closing that lacks a fraction the regular-dismantling rules require of one of its
devices (a line weighs what it separated). Its outputs go into the output lots.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from traceability.accounts.models import OrgKind
from traceability.catalog.dismantling import dismantling_gaps
from traceability.catalog.services import kg_to_grams
from traceability.custody.checks import MAX_LOT_KG, check_mass_balance, require_kind, when_after
from traceability.custody.messages import BatchClosed, Output
from traceability.custody.models import EventType
from traceability.custody.workspace import BatchMember, Workspace, batch_subject, open_lot
from traceability.errors import Conflict, NotFound, ValidationFailed


class UnknownBatch(NotFound):
    code = "unknown_batch"


class BatchClosedAlready(Conflict):
    code = "batch_closed"


def check_open(ws: Workspace, code: str) -> None:
    """A device joins a batch only while it is open."""
    if (ws.principal.org_code, code) in ws.closed_batches:
        raise BatchClosedAlready(
            f"batch {code} is closed: open a new batch for this device", field="batch"
        )


def weighed_outputs(
    ws: Workspace, outputs: Sequence[Output], *, max_kg: int
) -> list[dict[str, Any]]:
    """Outputs in grams: known, current fractions, each once, within ``max_kg``."""
    result, seen = [], set()
    for index, output in enumerate(outputs):
        where = f"outputs[{index}]"
        fraction = ws.catalog.fractions.get(output.fraction)
        if fraction is None:
            raise ValidationFailed(
                f"unknown fraction {output.fraction!r}", field=f"{where}.fraction"
            )
        if fraction.legacy:
            raise ValidationFailed(
                f"fraction {output.fraction} is kept for old records only: name it precisely "
                f"({fraction.note or 'see GET /catalog'})",
                field=f"{where}.fraction",
            )
        if output.fraction in seen:
            raise ValidationFailed(
                f"fraction {output.fraction} is listed twice", field=f"{where}.fraction"
            )
        seen.add(output.fraction)
        weight_g = kg_to_grams(output.weight_kg, field=f"{where}.weight_kg", max_kg=max_kg)
        result.append({"fraction": output.fraction, "weight_g": weight_g})
    return result


def batch_gaps(
    ws: Workspace, members: Iterable[BatchMember], outputs: list[dict[str, Any]]
) -> list[str]:
    """What the batch's outputs lack of the rules' required fractions (and one-of groups)
    of any of its devices: each gap once, as text."""
    pairs = [(o["fraction"], o["weight_g"]) for o in outputs]
    gaps: dict[tuple[str, ...], str] = {}
    for m in members:
        for gap in dismantling_gaps(ws.catalog, m.category, m.attributes, pairs):
            if gap.kind in ("missing", "one_of") and gap.fractions not in gaps:
                gaps[gap.fractions] = " or ".join(gap.fractions)
    return sorted(gaps.values())


def batch_closed(ws: Workspace, msg: BatchClosed, event_id: str) -> str:
    require_kind(ws, OrgKind.dismantler, action=EventType.batch_closed)
    code, key = msg.batch, (ws.principal.org_code, msg.batch)
    check_open(ws, code)
    members = ws.batch_members.get(key)
    if not members:
        raise UnknownBatch(f"no device has been dismantled in batch {code}", field="batch")
    outputs = weighed_outputs(ws, msg.outputs, max_kg=MAX_LOT_KG)
    intake_g = sum(m.received_weight_g or 0 for m in members.values())
    output_g = sum(o["weight_g"] for o in outputs)
    check_mass_balance(ws, intake_g=intake_g, output_g=output_g, field="outputs")
    missing = batch_gaps(ws, members.values(), outputs)
    if missing:
        raise ValidationFailed(
            f"outputs lack {', '.join(missing)}, required by the regular-dismantling rules "
            f"for devices of batch {code}",
            field="outputs",
        )
    latest = max(m.dismantled_at for m in members.values())
    when: dt.datetime = when_after(ws, msg.occurred_at, latest)
    payload: dict[str, Any] = {
        "batch": code,
        "outputs": outputs,
        "devices": len(members),
        "intake_g": intake_g,
    }
    digest = ws.append(
        event_id=event_id,
        type=EventType.batch_closed,
        occurred_at=when,
        payload=payload,
        prev=None,
        batch=batch_subject(*key),
    )
    for output in outputs:
        lot = open_lot(ws, output["fraction"], when)
        lot.weight_g += output["weight_g"]
        lot.device_count += len(members)
        ws.touch(lot)
    ws.closed_batches.add(key)
    return digest
