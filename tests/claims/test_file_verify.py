"""`claims verify FILE --trust TRUST --rpc URL` with the chain alone (issue 18 item 6): untouched
XLSX, CSV and PDF pass with no database; each edit fails naming the cell."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from ledger.chain import Web3Ledger
from ledger.verify import TrustAnchors
from tests.claims.conftest import ROOT
from tests.claims.quarter import EXAMPLE_RATES, Quarter
from tests.support.accounts import Actor
from traceability.anchoring.connection import trust_path
from traceability.app import trace_of
from traceability.claims.events import claim_events
from traceability.claims.exports.filecells import cell_value_text as _text
from traceability.claims.exports.machine import MACHINE_HEADER
from traceability.claims.exports.pdf import claim_pdf
from traceability.claims.exports.reviewtable import (
    CATEGORY_HEADERS,
    CATEGORY_SHEET,
    REVIEW_HEADERS,
    REVIEW_SHEET,
)
from traceability.claims.exports.rows import HEADERS, REVIEW_COLUMN
from traceability.claims.exports.summary import summarise
from traceability.claims.exports.xlsx import DETAIL_SHEET, EXCLUDED_SHEET, SUMMARY_SHEET
from traceability.claims.filecheck import FileCheck, verify_export
from traceability.claims.services import get_claim_by_code
from traceability.db import session_scope
from traceability.reports.devices import open_reader

pytestmark = pytest.mark.integration

RATE = HEADERS.index("单价(元) Rate (yuan)")


def submitted(quarter: Quarter) -> dict[str, Any]:
    claim = quarter.claim()
    response = quarter.client.post(f"/api/v1/claims/{claim['id']}/submit", headers=quarter.manager)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def export(quarter: Quarter, claim: dict[str, Any], kind: str, tmp_path: Path) -> Path:
    response = quarter.client.get(
        f"/api/v1/claims/{claim['id']}/export.{kind}", headers=quarter.manager
    )
    assert response.status_code == 200, response.get_data()[:300]
    path = tmp_path / f"{claim['code']}.{kind}"
    path.write_bytes(response.get_data())
    return path


def trust_and_rpc(quarter: Quarter) -> tuple[Path, str]:
    settings = trace_of(quarter.client.application).settings
    assert settings.ledger_url
    return trust_path(settings), settings.ledger_url


def check(quarter: Quarter, path: Path) -> FileCheck:
    """The check with the chain alone: no session is given, none is opened."""
    trust_file, url = trust_and_rpc(quarter)
    trust = TrustAnchors.read(trust_file)
    chain = Web3Ledger.from_rpc(url, private_key=None, contract_address=trust.registry)
    return verify_export(path, trace_of(quarter.client.application).catalog, chain, trust)


def named(result: FileCheck, *parts: str) -> str:
    """The one problem naming every part (a cell, a sheet), for the assertion's message."""
    assert not result.ok
    found = [p for p in result.problems if all(part in p for part in parts)]
    assert found, result.problems
    return found[0]


@pytest.mark.parametrize("kind", ["xlsx", "csv", "pdf"])
def test_an_untouched_export_verifies_with_no_database(
    quarter: Quarter, tmp_path: Path, kind: str
) -> None:
    """The command line, in a process whose database cannot be opened at all."""
    claim = submitted(quarter)
    path = export(quarter, claim, kind, tmp_path)
    trust_file, url = trust_and_rpc(quarter)
    env = {
        **os.environ,
        "TRACE_DATABASE_URL": f"sqlite:///{tmp_path}/no-such-dir/none.db",
        "TRACE_DATA_DIR": str(tmp_path / "empty"),
        "TRACE_LEDGER_MODE": "off",
        "TRACE_ENV": "development",
        "TRACE_RATE_SCHEDULES": str(ROOT / EXAMPLE_RATES),
    }
    argv = [sys.executable, "-m", "traceability.cli", "claims", "verify", str(path),
            "--trust", str(trust_file), "--rpc", url]  # fmt: skip
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"OK: {path}" in done.stdout and f"claim {claim['code']}" in done.stdout
    assert not (tmp_path / "no-such-dir" / "none.db").exists()  # never opened


def test_a_zeroed_summary_digest_fails_naming_its_cell(quarter: Quarter, tmp_path: Path) -> None:
    path = export(quarter, submitted(quarter), "xlsx", tmp_path)
    cell = _edit_fact(path, "申报摘要", "0" * 64)
    named(check(quarter, path), f"{SUMMARY_SHEET} cell {cell}", "0" * 64)


def test_a_changed_plant_name_fails_naming_its_cell(quarter: Quarter, tmp_path: Path) -> None:
    path = export(quarter, submitted(quarter), "xlsx", tmp_path)
    cell = _edit_fact(path, "处理企业", "某某再生资源有限公司 (DIS-SZ)")
    named(check(quarter, path), f"{SUMMARY_SHEET} cell {cell}", "某某再生资源有限公司")


def test_a_changed_licence_fails_naming_its_cell(quarter: Quarter, tmp_path: Path) -> None:
    path = export(quarter, submitted(quarter), "xlsx", tmp_path)
    cell = _edit_fact(path, "许可证编号", "苏环危废第9999号")
    named(check(quarter, path), f"{SUMMARY_SHEET} cell {cell}", "苏环危废第9999号")


def test_deleted_exclusion_rows_fail_naming_the_sheet_and_reasons(
    quarter: Quarter, tmp_path: Path
) -> None:
    path = export(quarter, submitted(quarter), "xlsx", tmp_path)
    book = openpyxl.load_workbook(path)
    sheet = book[EXCLUDED_SHEET]
    listed = sheet.max_row - 1
    assert listed >= 3
    sheet.delete_rows(2, listed - 1)  # all but the last
    book.save(path)
    problem = named(check(quarter, path), f"sheet {EXCLUDED_SHEET}: 1 rows")
    assert f"the chain holds {listed} excluded devices" in problem


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_changed_detail_cell_fails_naming_the_cell(
    quarter: Quarter, tmp_path: Path, kind: str
) -> None:
    path = export(quarter, submitted(quarter), kind, tmp_path)
    rows = _rows(path, kind)
    rate = int(rows[3][RATE])
    rows[3][RATE] = str(rate + 10)
    _write_rows(path, kind, rows)
    letter = openpyxl.utils.get_column_letter(RATE + 1)
    address = (
        f"{DETAIL_SHEET} cell {letter}4" if kind == "xlsx" else f"CSV line 4 column {RATE + 1}"
    )
    problem = named(check(quarter, path), address, "单价")
    assert f"the file says '{rate + 10}', the chain '{rate}'" in problem


def test_a_changed_review_cell_fails_naming_the_cell(
    quarter: Quarter, tmp_path: Path, make_actor: Any
) -> None:
    claim = submitted(quarter)
    auditor: Actor = make_actor("REG-JS", "regulator", role="auditor", region="320000")
    csv_rows = _rows(export(quarter, claim, "csv", tmp_path), "csv")
    victim = json.loads(csv_rows[2][HEADERS.index(MACHINE_HEADER)])[0]  # its QR ID
    rejected = {"decision": "reject", "qr_id": victim, "reason": "video_missing"}
    decisions = [{"decision": "approve"}, rejected]
    response = quarter.client.post(
        f"/api/v1/claims/{claim['id']}/review", json={"decisions": decisions},
        headers=auditor.headers,
    )  # fmt: skip
    assert response.status_code == 200, response.get_json()
    path = export(quarter, claim, "xlsx", tmp_path)
    assert check(quarter, path).ok, check(quarter, path).problems  # the review is on chain
    rows = _rows(path, "xlsx")
    assert "video_missing" in rows[2][REVIEW_COLUMN]
    rows[2][REVIEW_COLUMN] = rows[3][REVIEW_COLUMN]  # the rejection turned into an approval
    _write_rows(path, "xlsx", rows)
    column = openpyxl.utils.get_column_letter(REVIEW_COLUMN + 1)
    named(check(quarter, path), f"{DETAIL_SHEET} cell {column}3", "video_missing")


def test_the_review_table_counts_the_deduction_and_an_edit_of_it_is_named(
    quarter: Quarter, tmp_path: Path, make_actor: Any
) -> None:
    claim = submitted(quarter)
    auditor: Actor = make_actor("REG-JS", "regulator", role="auditor", region="320000")
    victim = quarter.devices["fridge_500"]
    rejected = {"decision": "reject", "qr_id": victim, "reason": "video_missing"}
    decisions = [{"decision": "approve"}, rejected]
    response = quarter.client.post(
        f"/api/v1/claims/{claim['id']}/review", json={"decisions": decisions},
        headers=auditor.headers,
    )  # fmt: skip
    assert response.status_code == 200, response.get_json()
    path = export(quarter, claim, "xlsx", tmp_path)
    book = openpyxl.load_workbook(path)
    table = [list(r) for r in book[REVIEW_SHEET].iter_rows(values_only=True)]
    assert table[0] == list(REVIEW_HEADERS)
    total = table[-1]
    claimed, approved, deducted = total[3], total[5], total[7]
    assert (claimed, approved, deducted) == (claim["units"], claim["units"] - 1, 1)
    fridge = next(r for r in table[1:-1] if "refrigerator" in str(r[1]) and r[7])
    assert fridge[9] == "video_missing×1" and fridge[8] == fridge[4] // fridge[3]
    assert check(quarter, path).ok
    book[REVIEW_SHEET].cell(len(table), 6).value = claimed  # every unit approved after all
    book.save(path)
    named(check(quarter, path), f"sheet {REVIEW_SHEET} cell F{len(table)}", f"'{int(claimed)}'")


def test_an_export_of_an_earlier_version_says_so(quarter: Quarter, tmp_path: Path) -> None:
    """A detail with no 核验数据 column (the 17- and 19-column files made before it)."""
    path = export(quarter, submitted(quarter), "csv", tmp_path)
    rows = [r[: HEADERS.index(MACHINE_HEADER)] for r in _rows(path, "csv")]
    _write_rows(path, "csv", rows, proof=False)
    problem = named(check(quarter, path), "earlier version")
    assert "--records" in problem


def test_units_per_category_add_up_and_an_edit_is_named(quarter: Quarter, tmp_path: Path) -> None:
    claim = submitted(quarter)
    path = export(quarter, claim, "xlsx", tmp_path)
    book = openpyxl.load_workbook(path)
    table = [list(r) for r in book[CATEGORY_SHEET].iter_rows(values_only=True)]
    assert table[0] == list(CATEGORY_HEADERS)
    excluded = book[EXCLUDED_SHEET].max_row - 1
    total = table[-1]
    assert (total[1], total[2], total[3]) == (claim["units"] + excluded, claim["units"], excluded)
    for row in table[1:]:
        assert row[1] == row[2] + row[3]
    tv = next(n for n, r in enumerate(table, start=1) if "电视机" in str(r[0]))
    book[CATEGORY_SHEET].cell(tv, 4).value = table[tv - 1][3] - 1  # one exclusion hidden
    book.save(path)
    named(check(quarter, path), f"sheet {CATEGORY_SHEET} cell D{tv}")


def forged_pdf(quarter: Quarter, claim: dict[str, Any], path: Path, **changes: Any) -> Path:
    """The claim's PDF made again with its genuine proof attached but ``changes`` printed
    (``digest``: the QR's; else fields of the summary) — what a forger's PDF tool does."""
    trace = trace_of(quarter.client.application)
    with session_scope(trace.engine) as session:
        found = get_claim_by_code(session, claim["code"])
        ledger = open_reader(session, trace.ledger)
        summary = summarise(session, trace.catalog, found, claim_events(session, ledger, found))
    if "digest" in changes:
        replay = dataclasses.replace(summary.replay, digest=changes.pop("digest"))
        summary = dataclasses.replace(summary, replay=replay)
    summary = dataclasses.replace(summary, **changes)
    path.write_bytes(claim_pdf(summary, public_url=trace.settings.public_url))
    return path


@pytest.mark.parametrize(
    ("changes", "named_by"),
    [
        ({"digest": "0" * 64}, "page 1 QR: digest '" + "0" * 64),
        ({"plant_name": "某某再生资源有限公司 (DIS-SZ)"}, "PDF 处理企业 Plant"),
        ({"licence": "苏环危废第9999号"}, "PDF 许可证编号 Licence"),
    ],
)
def test_a_forged_pdf_fails_naming_what_differs(
    quarter: Quarter, tmp_path: Path, changes: dict[str, Any], named_by: str
) -> None:
    claim = submitted(quarter)
    assert check(quarter, forged_pdf(quarter, claim, tmp_path / "same.pdf")).ok
    named(check(quarter, forged_pdf(quarter, claim, tmp_path / "forged.pdf", **changes)), named_by)


def test_a_draft_pdf_is_refused_as_never_anchored(quarter: Quarter, tmp_path: Path) -> None:
    claim = quarter.claim()
    named(check(quarter, export(quarter, claim, "pdf", tmp_path)), "never submitted")


def _edit_fact(path: Path, label: str, value: str) -> str:
    """Write ``value`` in the summary cell next to ``label``; its address."""
    book = openpyxl.load_workbook(path)
    sheet = book[SUMMARY_SHEET]
    row = next(r for r in range(1, 14) if str(sheet.cell(r, 1).value or "").startswith(label))
    assert sheet.cell(row, 3).value != value
    sheet.cell(row, 3).value = value
    book.save(path)
    return f"C{row}"


def _rows(path: Path, kind: str) -> list[list[str]]:
    if kind == "csv":
        return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    book = openpyxl.load_workbook(path)
    return [[_text(v) for v in r] for r in book[DETAIL_SHEET].iter_rows(values_only=True)]


def _write_rows(path: Path, kind: str, rows: list[list[str]], proof: bool = True) -> None:
    """Write the rows back: a CSV whole (its proof record kept unless ``proof`` is False),
    an XLSX's edited cells only."""
    if kind == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(rows if proof else rows[:-1])
        path.write_bytes(("\ufeff" + out.getvalue()).encode())
        return
    book = openpyxl.load_workbook(path)
    sheet = book[DETAIL_SHEET]
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if _text(sheet.cell(r, c).value) != value:
                sheet.cell(r, c).value = int(value) if value.isdigit() else value
    book.save(path)
