"""A claim's figures are replayed from its anchored events; forged rows are a projection_mismatch
(SPEC §3 "Every figure is a replay"; issue 15 finding 2)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import update

from tests.claims.quarter import Quarter
from tests.claims.test_exports import download, submitted, verify
from tests.support.accounts import Actor
from traceability.app import trace_of
from traceability.claims.exports.xlsx import SUMMARY_HEADER_ROW, SUMMARY_SHEET
from traceability.claims.models import Claim, ClaimExclusion, ClaimItem
from traceability.claims.outcomes import Outcomes
from traceability.cli import main

_CLAIM = Claim.__table__  # type: ignore[attr-defined]
_ITEM = ClaimItem.__table__  # type: ignore[attr-defined]
_EXCLUSION = ClaimExclusion.__table__  # type: ignore[attr-defined]


def forge(app: Flask, claim_id: int, **values: Any) -> None:
    """What the plant's database administrator can do: one UPDATE of the claim row."""
    with trace_of(app).engine.begin() as conn:
        conn.execute(update(_CLAIM).where(_CLAIM.c.id == claim_id).values(**values))


def show(quarter: Quarter, claim: dict[str, Any]) -> dict[str, Any]:
    return quarter.show(claim["id"], per_page=1000)  # type: ignore[no-any-return]


def mismatched(shown: dict[str, Any]) -> dict[tuple[str, str | None], tuple[Any, Any]]:
    return {
        (m["field"], m["device"]): (m["stored"], m["replayed"])
        for m in shown["projection_mismatch"]
    }


def summary_total(path: Path) -> tuple[Any, Any]:
    sheet = openpyxl.load_workbook(path)[SUMMARY_SHEET]
    rows = list(sheet.iter_rows(values_only=True))[SUMMARY_HEADER_ROW + 1 :]
    total = next(r for r in rows if r[1] == "合计 Total")
    return total[5], total[6]


def show_cli(app: Flask, code: str) -> Result:
    return CliRunner().invoke(main, ["claims", "show", code], obj=trace_of(app))


@pytest.fixture
def auditor(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("REG-JS", "regulator", role="auditor", region="320000")


def review(quarter: Quarter, auditor: Actor, claim: dict[str, Any], decisions: list[Any]) -> Any:
    response = quarter.client.post(
        f"/api/v1/claims/{claim['id']}/review",
        json={"decisions": decisions},
        headers=auditor.headers,
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.integration
def test_two_rejections_flipped_and_the_total_forged_show_the_replay_and_the_mismatch(
    quarter: Quarter, auditor: Actor, tmp_path: Path
) -> None:
    app = quarter.client.application
    claim = submitted(quarter)
    rejected = [quarter.devices["crt_21"], quarter.devices["laptop"]]
    honest = review(
        quarter,
        auditor,
        claim,
        [{"decision": "approve"}]
        + [{"decision": "reject", "qr_id": q, "reason": "video_missing"} for q in rejected],
    )
    assert honest["state"] == "partially_approved" and honest["anchor_status"] == "verified"
    assert honest["projection_mismatch"] == []
    before = {kind: tmp_path / f"before.{kind}" for kind in ("xlsx", "csv")}
    for kind, path in before.items():
        path.write_bytes(download(quarter, claim, kind))

    with trace_of(app).engine.begin() as conn:
        conn.execute(
            update(_ITEM)
            .where(_ITEM.c.claim_id == claim["id"], _ITEM.c.qr_id.in_(rejected))
            .values(review="approved", review_reason=None)
        )
    forge(app, claim["id"], total_yuan=99_999, approved_yuan=99_999, state="approved")

    shown = show(quarter, claim)
    assert (shown["total_yuan"], shown["approved_yuan"], shown["state"]) == (
        claim["total_yuan"],
        honest["approved_yuan"],
        "partially_approved",
    )
    assert {q: d["review"] for q, d in _devices(shown).items() if q in rejected} == dict.fromkeys(
        rejected, "rejected"
    )
    found = mismatched(shown)
    assert found[("total_yuan", None)] == (99_999, claim["total_yuan"])
    assert found[("approved_yuan", None)] == (99_999, honest["approved_yuan"])
    assert found[("state", None)] == ("approved", "partially_approved")
    for qr_id in rejected:
        assert found[("review", qr_id)] == (["approved", None], ["rejected", "video_missing"])
    assert all(m["claim"] == claim["code"] for m in shown["projection_mismatch"])
    assert shown["anchor_status"] == "projection_mismatch"

    fresh = tmp_path / "after.xlsx"
    fresh.write_bytes(download(quarter, claim, "xlsx"))
    assert summary_total(fresh) == (claim["units"], claim["total_yuan"])
    assert summary_total(before["xlsx"]) == (claim["units"], claim["total_yuan"])
    for path in before.values():  # the honest files still verify...
        result = verify(app, path)
        assert result.exit_code == 0, result.output
    result = verify(app, fresh, "--records")  # ...and a fresh one reports the forgery
    assert "projection_mismatch" in result.output and "total_yuan" in result.output
    assert "99999" in result.output


@pytest.mark.integration
@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils reads the PDF back")
def test_the_pdf_prints_the_replayed_total_not_the_forged_one(
    quarter: Quarter, tmp_path: Path
) -> None:
    claim = submitted(quarter)
    forge(quarter.client.application, claim["id"], total_yuan=99_999)
    path = tmp_path / "claim.pdf"
    path.write_bytes(download(quarter, claim, "pdf"))
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "99,999" not in text
    assert f"{claim['total_yuan']:,}" in text
    assert "projection_mismatch" in text


@pytest.mark.integration
def test_a_forged_state_is_a_mismatch_and_the_events_give_the_state(
    quarter: Quarter, tmp_path: Path
) -> None:
    app = quarter.client.application
    claim = submitted(quarter)
    forge(app, claim["id"], state="approved")
    shown = show(quarter, claim)
    assert shown["state"] == "submitted"
    assert mismatched(shown) == {("state", None): ("approved", "submitted")}
    assert shown["anchor_status"] == "projection_mismatch"
    printed = show_cli(app, claim["code"])
    assert printed.exit_code == 0, printed.output
    assert "已提交 submitted" in printed.output and "已核准" not in printed.output
    assert f"projection_mismatch: {claim['code']} state" in printed.output


@pytest.mark.integration
def test_forged_line_units_are_a_mismatch_and_the_items_give_the_lines(
    quarter: Quarter, tmp_path: Path
) -> None:
    app = quarter.client.application
    claim = submitted(quarter)
    path = tmp_path / "before.csv"
    path.write_bytes(download(quarter, claim, "csv"))
    lines = [dict(line) for line in claim["lines"]]
    first = lines[0]
    first["units"] += 3
    first["amount"] += 3 * first["rate"]
    forge(app, claim["id"], lines=lines, units=claim["units"] + 3)
    shown = show(quarter, claim)
    assert shown["lines"] == claim["lines"] and shown["units"] == claim["units"]
    name = f"lines[{first['tier']}@{first['rate']}]"
    assert mismatched(shown) == {
        (f"{name}.units", None): (first["units"], first["units"] - 3),
        (f"{name}.amount", None): (first["amount"], first["amount"] - 3 * first["rate"]),
        ("units", None): (claim["units"] + 3, claim["units"]),
    }
    fresh = tmp_path / "after.xlsx"
    fresh.write_bytes(download(quarter, claim, "xlsx"))
    assert summary_total(fresh) == (claim["units"], claim["total_yuan"])
    assert verify(app, path).exit_code == 0


@pytest.mark.integration
def test_a_forged_exclusion_reason_is_a_mismatch_of_the_anchored_exclusions(
    quarter: Quarter,
) -> None:
    claim = submitted(quarter)
    printer = quarter.devices["printer"]
    with trace_of(quarter.client.application).engine.begin() as conn:
        conn.execute(
            update(_EXCLUSION)
            .where(_EXCLUSION.c.claim_id == claim["id"], _EXCLUSION.c.qr_id == printer)
            .values(reasons=[["already_claimed", "claimed by another plant"]])
        )
    shown = show(quarter, claim)
    assert shown["excluded_by_reason"] == claim["excluded_by_reason"]  # the anchored counts
    assert ("excluded.digest", None) in mismatched(shown)
    assert shown["anchor_status"] == "projection_mismatch"


@pytest.mark.integration
def test_a_draft_total_forged_before_submission_is_not_anchored(quarter: Quarter) -> None:
    draft = quarter.claim()
    forge(quarter.client.application, draft["id"], total_yuan=99_999, units=999)
    response = quarter.client.post(f"/api/v1/claims/{draft['id']}/submit", headers=quarter.manager)
    assert response.status_code == 200, response.get_json()
    claim = response.get_json()
    [event] = claim["events"]
    assert (event["payload"]["units"], event["payload"]["total_yuan"]) == (
        draft["units"],
        draft["total_yuan"],
    )
    assert (claim["units"], claim["total_yuan"]) == (draft["units"], draft["total_yuan"])
    assert mismatched(claim) == {
        ("units", None): (999, draft["units"]),
        ("total_yuan", None): (99_999, draft["total_yuan"]),
    }


@pytest.mark.integration
def test_a_review_starts_from_the_replayed_outcomes_not_the_edited_rows(
    quarter: Quarter, auditor: Actor
) -> None:
    claim = submitted(quarter)
    rejected = [quarter.devices["crt_21"], quarter.devices["laptop"]]
    review(
        quarter,
        auditor,
        claim,
        [{"decision": "approve"}]
        + [{"decision": "reject", "qr_id": q, "reason": "video_missing"} for q in rejected],
    )
    with trace_of(quarter.client.application).engine.begin() as conn:
        conn.execute(
            update(_ITEM)
            .where(_ITEM.c.claim_id == claim["id"], _ITEM.c.qr_id.in_(rejected))
            .values(review="approved", review_reason=None)
        )
    # The events say the device is rejected, so it can be reinstated; the rows are re-projected.
    again = review(
        quarter,
        auditor,
        claim,
        [{"decision": "reinstate", "qr_id": rejected[0], "reason": "evidence_supplied"}],
    )
    assert again["projection_mismatch"] == []
    assert {q: d["review"] for q, d in _devices(show(quarter, claim)).items() if q in rejected} == {
        rejected[0]: "reinstated",
        rejected[1]: "rejected",
    }


@pytest.mark.integration
def test_a_submitted_claim_edited_back_to_draft_is_neither_resubmitted_nor_recomputed(
    quarter: Quarter,
) -> None:
    claim = submitted(quarter)
    forge(quarter.client.application, claim["id"], state="draft")
    again = quarter.client.post(f"/api/v1/claims/{claim['id']}/submit", headers=quarter.manager)
    assert again.status_code == 409, again.get_json()
    # Its submission event says it was submitted: a further claim is a supplement, and
    # the edited one keeps its devices.
    later = quarter.claim(supplementary=True)
    assert later["id"] != claim["id"]
    shown = show(quarter, claim)
    assert (shown["state"], shown["units"]) == ("submitted", claim["units"])
    assert mismatched(shown) == {("state", None): ("draft", "submitted")}


def test_review_outcomes_fold_as_review_claim_applies_them() -> None:
    """Within a review the last decision naming a device wins; a later decision without a
    reason that leaves the outcome unchanged keeps the earlier reason."""
    outcomes = Outcomes(
        [
            {"decisions": [{"decision": "approve", "reason": "ok"},
                           {"decision": "reject", "tier": "t2", "reason": "no video"}]},
            {"decisions": [{"decision": "approve", "qr_id": "A"},
                           {"decision": "reject", "qr_id": "B", "reason": "x"},
                           {"decision": "approve", "qr_id": "B"}]},
            {"decisions": [{"decision": "reinstate", "qr_id": "C", "reason": "video sent"}]},
        ]
    )  # fmt: skip
    assert outcomes.of("A", "t1") == ("approved", "ok")
    assert outcomes.of("B", "t1") == ("approved", "ok")
    assert outcomes.of("C", "t2") == ("reinstated", "video sent")
    assert outcomes.of("D", "t2") == ("rejected", "no video")
    assert Outcomes([]).of("A", "t1") == (None, None)


def _devices(shown: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["qr_id"]: d for d in shown["devices"]}
