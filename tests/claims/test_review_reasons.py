"""Review reasons are codes with text and a source (核减原因, issue 18 item 5), and "approve
the rest" leaves decided devices alone — in the service and in the replay of its events."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.claims.quarter import COLD_OUT, FLAT_OUT, Quarter
from tests.support.accounts import Actor
from traceability.claims.outcomes import Outcomes
from traceability.claims.reasons import load_review_reasons, reason_text

FRIDGE = ("refrigerator", {"volume_l": 200}, "40", COLD_OUT)
FLAT_42 = ("tv", {"display": "lcd", "backlight": "led", "screen_in": 42}, "12", FLAT_OUT)
HAN = re.compile(r"[\u4e00-\u9fff]")


def test_every_review_reason_has_chinese_and_english_text_and_says_its_source() -> None:
    reasons = load_review_reasons().reasons
    assert reasons["video_missing"].decisions == ("reject",)
    for code, reason in reasons.items():
        assert re.fullmatch(r"[a-z][a-z_]+", code), code
        assert HAN.search(reason.zh) and not HAN.search(reason.en), code
        # An official document (《…》 or its number 〔year〕), else said to be a practice default.
        assert "〔" in reason.source or reason.source.startswith("practice default"), code
    # Something to reject with and something to reinstate with.
    assert load_review_reasons().for_decision("reject")
    assert load_review_reasons().for_decision("reinstate")


def test_a_reason_reads_as_its_text_and_a_reason_recorded_before_the_codes_as_recorded() -> None:
    assert (
        reason_text("video_missing", zh=True) == load_review_reasons().reasons["video_missing"].zh
    )
    assert reason_text("video_missing", zh=False).startswith("dismantling video")
    assert reason_text("无拆解视频", zh=False) == "无拆解视频"  # free text of an earlier review
    assert reason_text(None, zh=True) == ""


def test_approving_the_rest_leaves_decided_devices_as_they_are_in_the_replay() -> None:
    outcomes = Outcomes(
        [
            {"decisions": [{"decision": "reject", "qr_id": "A", "reason": "video_missing"}]},
            {"decisions": [{"decision": "approve", "pending_only": True}]},
            {"decisions": [{"decision": "reinstate", "qr_id": "A", "reason": "evidence_supplied"},
                           {"decision": "reject", "tier": "t1", "reason": "stock_mismatch",
                            "pending_only": True}]},
        ]
    )  # fmt: skip
    assert outcomes.of("A", "t1") == ("reinstated", "evidence_supplied")
    assert outcomes.of("B", "t1") == ("approved", None)
    assert outcomes.of("C", "t2") == ("approved", None)


@pytest.fixture
def q(client: FlaskClient, collector: Actor, plant: Actor, processor: Actor) -> Quarter:
    return Quarter(client, collector, plant, processor)


@pytest.mark.integration
def test_an_auditor_rejects_one_device_with_a_code_and_a_note_and_approves_the_rest(
    q: Quarter, make_actor: Callable[..., Actor]
) -> None:
    a = q.device("a", *FRIDGE, "2026-08-03T10:00:00")
    b = q.device("b", *FLAT_42, "2026-08-04T10:00:00")
    q.ship_and_confirm_lots()
    q.anchor()
    claim = q.claim()
    submitted = q.client.post(f"/api/v1/claims/{claim['id']}/submit", headers=q.manager)
    assert submitted.status_code == 200, submitted.get_json()
    auditor = make_actor("REG-JS", "regulator", role="auditor", region="320000")

    def review(decisions: list[dict[str, Any]]) -> dict[str, Any]:
        response = q.client.post(
            f"/api/v1/claims/{claim['id']}/review",
            json={"decisions": decisions},
            headers=auditor.headers,
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    note = "第3号工位8月3日视频缺失"
    review([{"decision": "reject", "qr_id": a, "reason": "video_missing", "note": note}])
    q.anchor()
    done = review([{"decision": "approve", "pending_only": True}])
    q.anchor()
    shown = q.show(claim["id"], per_page=1000)
    devices = {d["qr_id"]: (d["review"], d["review_reason"]) for d in shown["devices"]}
    assert devices == {a: ("rejected", "video_missing"), b: ("approved", None)}
    assert done["state"] == "partially_approved"
    assert done["approved_yuan"] == next(
        d["rate_yuan"] for d in shown["devices"] if d["qr_id"] == b
    )
    first, second = (e["payload"]["decisions"] for e in shown["events"][1:])
    assert first == [{"decision": "reject", "qr_id": a, "devices": 1,
                      "reason": "video_missing", "note": note}]  # fmt: skip
    assert second == [{"decision": "approve", "devices": 1, "pending_only": True}]
    # The rows agree with the replay of the anchored events.
    assert shown["projection_mismatch"] == [] and shown["anchor_status"] == "verified"
