"""The audit judges a device dismantled by scan in a batch by the batch's closing (SPEC §2.4):
regular when the closing's outputs meet the rules; a finding, saying so, when its batch was
never closed. Recorded through the API, read and replayed by the audit's own loader."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from tests.support.accounts import Actor
from tests.support.floor import Handheld, new_id, receive
from traceability.anchoring.trust import TrustedLedger
from traceability.app import trace_of
from traceability.audit import device_rules
from traceability.audit.dataset import audit_data, read_logs
from traceability.audit.ruleset import load_ruleset

# What two 30.5 kg CRT TV sets yield: every fraction their rules require.
TWO_SETS = {"crt_panel_glass": "20", "crt_funnel_glass": "10", "crt_phosphor": "0.2", "pcb": "3"}


def scanned(client: FlaskClient, collector: Actor, plant: Actor, batch: str) -> list[str]:
    devices = [receive(client, collector, plant) for _ in range(2)]
    Handheld(client, plant).record(
        *({"type": "dismantled", "qr_id": q, "batch": batch} for q in devices)
    )
    return devices


def test_a_device_of_a_batch_never_closed_is_a_finding_one_of_a_closed_batch_is_not(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    closed = scanned(client, collector, plant, "L1-A")
    [result] = Handheld(client, plant).post(
        {"id": new_id(), "type": "batch_closed", "batch": "L1-A",
         "outputs": [{"fraction": f, "weight_kg": w} for f, w in TWO_SETS.items()]},
    )  # fmt: skip
    assert result["status"] == "created", result
    open_ = scanned(client, collector, plant, "L1-B")

    trace = trace_of(app)
    with Session(trace.engine) as session:
        logs = read_logs(session, TrustedLedger.off())
    data = audit_data(logs, trace.catalog, as_of=trace.now() + dt.timedelta(days=1))
    assert set(data.batch_closings) == {f"{plant.org}/L1-A"}
    thresholds = load_ruleset().thresholds
    found = list(device_rules.irregular_dismantling(data, thresholds))
    assert sorted(f.subject for f in found) == sorted(open_)
    spec = load_ruleset().rule("irregular_dismantling")
    assert "L1-B" in found[0].detail(spec, "en") and "未结束" in found[0].detail(spec, "zh")
    assert not set(closed) & {f.subject for f in found}

    # Read as of before the closing, the closed batch was open then: its devices are findings.
    closing_at = min(r.occurred_at for r, _ in logs.batch_closings.values())
    earlier = audit_data(logs, trace.catalog, as_of=closing_at)
    before = {f.subject for f in device_rules.irregular_dismantling(earlier, thresholds)}
    assert set(closed) <= before
