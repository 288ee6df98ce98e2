"""The public page a claim PDF's QR opens, /verify/claims/{code} (issue 18 item 6): the digest
the submission anchored, its anchor, the chain's check, whether the file's digest is that
one; Beijing time; zh-CN and English."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import update

from tests.claims.quarter import Quarter
from tests.claims.test_file_verify import export, submitted
from traceability.app import trace_of
from traceability.claims.filecheck import _pdf_parts
from traceability.custody.models import Event

pytestmark = pytest.mark.integration


def test_the_pdf_qr_opens_the_claim_check_which_matches_the_chain(
    quarter: Quarter, tmp_path: Path
) -> None:
    claim = submitted(quarter)
    quarter.anchor()
    proof, qr, _ = _pdf_parts(export(quarter, claim, "pdf", tmp_path))
    assert qr is not None and proof is not None
    url = urlsplit(qr)
    page = quarter.client.get(f"{url.path}?{url.query}", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    digest = next(e for e in proof["bundle"]["events"] if e["content"]["type"] == "claim_submitted")
    anchored = digest["content"]["payload"]["digest"]
    assert f"<code data-digest>{anchored}</code>" in html
    assert 'data-match="yes"' in html and 'data-verification="verified"' in html
    assert "区块" in html and "(UTC+8)" in html  # the anchor's block; a Beijing time
    assert f"<dd data-units>{claim['units']}</dd>" in html


def test_another_digest_is_said_to_differ_in_english_too(quarter: Quarter) -> None:
    claim = submitted(quarter)
    quarter.anchor()
    page = quarter.client.get(
        f"/verify/claims/{claim['code']}?digest={'0' * 64}", headers={"Accept-Language": "en"}
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-match="no"' in html
    assert "this file is not the claim submitted" in html and "Ledger check" in html


def test_a_draft_and_an_unknown_claim(quarter: Quarter) -> None:
    draft = quarter.claim()
    page = quarter.client.get(f"/verify/claims/{draft['code']}")
    assert page.status_code == 200 and 'data-verification="unsubmitted"' in page.get_data(True)
    missing = quarter.client.get("/verify/claims/NO-SUCH-CLAIM?digest=abc")
    assert missing.status_code == 404 and 'data-claim="none"' in missing.get_data(True)


def test_an_edited_claim_event_fails_the_check(quarter: Quarter) -> None:
    """The plant's DB admin edits the anchored submission's figures: the page says so."""
    claim = submitted(quarter)
    quarter.anchor()
    table = Event.__table__  # type: ignore[attr-defined]
    with trace_of(quarter.client.application).engine.begin() as conn:
        row = conn.execute(
            table.select().where(table.c.claim == claim["code"], table.c.type == "claim_submitted")
        ).one()
        payload = {**dict(row.payload), "units": int(row.payload["units"]) + 100}
        conn.execute(update(table).where(table.c.id == row.id).values(payload=payload))
    html = quarter.client.get(f"/verify/claims/{claim['code']}").get_data(as_text=True)
    assert 'data-verification="failed"' in html
