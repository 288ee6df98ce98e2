"""Exports of a submitted claim (XLSX, CSV, PDF) and `claims verify` against records and ledger."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from rustpy_xlsxwriter import FastExcel
from sqlalchemy import update

from tests.claims.quarter import ELIGIBLE, Quarter
from traceability.app import trace_of
from traceability.claims.exports.csv import neutralise
from traceability.claims.exports.machine import MACHINE_HEADER
from traceability.claims.exports.rows import EXCLUSION_HEADERS, HEADERS
from traceability.claims.exports.xlsx import (
    DETAIL_SHEET,
    EXCLUDED_SHEET,
    SUMMARY_HEADER_ROW,
    SUMMARY_SHEET,
    sheet_records,
)
from traceability.cli import main
from traceability.custody.models import Event
from traceability.periods import CHINA

pytestmark = pytest.mark.integration

RATE = HEADERS.index("单价(元) Rate (yuan)")
DEVICE = HEADERS.index("设备编号 Device ID")
DISMANTLED = HEADERS.index("拆解时间(北京时间) Dismantled (Beijing)")


def submitted(quarter: Quarter) -> dict[str, Any]:
    claim = quarter.claim()
    response = quarter.client.post(f"/api/v1/claims/{claim['id']}/submit", headers=quarter.manager)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def download(quarter: Quarter, claim: dict[str, Any], kind: str) -> bytes:
    response = quarter.client.get(
        f"/api/v1/claims/{claim['id']}/export.{kind}", headers=quarter.manager
    )
    assert response.status_code == 200, response.get_data()[:300]
    return response.get_data()


def verify(app: Flask, path: Path, *options: str) -> Result:
    """``claims verify``: with the chain alone, or ``--records`` also against the database."""
    return CliRunner().invoke(main, ["claims", "verify", str(path), *options], obj=trace_of(app))


def test_submitting_anchors_the_claim_digest(quarter: Quarter) -> None:
    claim = submitted(quarter)
    assert claim["state"] == "submitted"
    [event] = claim["events"]
    assert event["type"] == "claim_submitted"
    assert event["payload"]["digest"] == claim["digest"]
    assert claim["anchor_status"] == "verified"
    assert claim["anchor"]["tx_hash"] and claim["anchor"]["block_number"] is not None
    again = quarter.client.post(f"/api/v1/claims/{claim['id']}/submit", headers=quarter.manager)
    assert again.status_code == 409


def test_xlsx_totals_equal_the_sum_of_its_detail_rows(quarter: Quarter, tmp_path: Path) -> None:
    claim = submitted(quarter)
    path = tmp_path / "claim.xlsx"
    path.write_bytes(download(quarter, claim, "xlsx"))
    book = openpyxl.load_workbook(path)
    detail = list(book[DETAIL_SHEET].iter_rows(values_only=True))
    assert list(detail[0]) == list(HEADERS)
    rows = detail[1:]
    assert len(rows) == len(ELIGIBLE) == claim["units"]
    summary = list(book[SUMMARY_SHEET].iter_rows(values_only=True))
    lines = summary[SUMMARY_HEADER_ROW + 1 : SUMMARY_HEADER_ROW + 1 + len(claim["lines"])]
    total = summary[SUMMARY_HEADER_ROW + 1 + len(claim["lines"])]
    assert total[1] == "合计 Total"
    assert total[5] == len(rows) == sum(line[5] for line in lines)
    assert total[6] == sum(row[RATE] for row in rows) == sum(line[6] for line in lines)
    assert total[6] == claim["total_yuan"]
    assert claim["digest"] in [cell for row in summary for cell in row if isinstance(cell, str)]


def test_xlsx_dismantling_times_are_date_cells_in_beijing_time(
    quarter: Quarter, tmp_path: Path
) -> None:
    """SPEC §2.9: spreadsheets hold real date cells; the CSV writes the same Beijing text."""
    claim = submitted(quarter)
    path = tmp_path / "claim.xlsx"
    path.write_bytes(download(quarter, claim, "xlsx"))
    sheet = openpyxl.load_workbook(path)[DETAIL_SHEET]
    csv_rows = list(csv.reader(io.StringIO(download(quarter, claim, "csv").decode("utf-8-sig"))))
    texts = {r[DEVICE]: r[DISMANTLED] for r in csv_rows[1:-1]}  # the last: the proof
    assert "北京时间" in HEADERS[DISMANTLED]
    for row in list(sheet.iter_rows(min_row=2)):
        cell, device = row[DISMANTLED], row[DEVICE].value
        assert cell.is_date and "hh:mm" in cell.number_format
        assert str(cell.value) == texts[device]  # 2026-07-01 09:30:00, to the second
        qr_id = str(device).replace("-", "")
        shown = quarter.client.get(f"/api/v1/devices/{qr_id}", headers=quarter.manager)
        utc = dt.datetime.fromisoformat(shown.get_json()["dismantled_at"])
        assert cell.value == utc.astimezone(CHINA).replace(tzinfo=None, microsecond=0)


def test_csv_has_a_bom_and_one_row_per_claimed_device(quarter: Quarter) -> None:
    claim = submitted(quarter)
    body = download(quarter, claim, "csv")
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == list(HEADERS)
    assert rows[-1][0] == MACHINE_HEADER  # the proof ``claims verify`` reads, after the devices
    assert len(rows) - 2 == claim["units"]
    assert len({r[DEVICE] for r in rows[1:-1]}) == claim["units"]
    assert any("电视机 tv" in cell for row in rows[1:] for cell in row)


@pytest.mark.parametrize("text", ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx"])
def test_csv_cells_that_start_a_formula_are_neutralised(text: str) -> None:
    assert neutralise(text) == "'" + text
    assert neutralise("电视机 tv") == "电视机 tv"


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils reads the PDF back")
def test_pdf_shows_chinese_categories_and_the_total_with_every_font_embedded(
    quarter: Quarter, tmp_path: Path
) -> None:
    claim = submitted(quarter)
    path = tmp_path / "claim.pdf"
    path.write_bytes(download(quarter, claim, "pdf"))
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    for zh in ("电视机", "电冰箱", "洗衣机", "空气调节器", "微型计算机"):
        assert zh in text
    assert f"{claim['total_yuan']:,}" in text
    assert "合计" in text
    fonts = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    rows = fonts.splitlines()[2:]
    assert rows, fonts
    for row in rows:
        emb = row.split()[-5]
        assert emb == "yes", fonts


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_unchanged_export_verifies_against_the_ledger(
    quarter: Quarter, tmp_path: Path, kind: str
) -> None:
    claim = submitted(quarter)
    path = tmp_path / f"claim.{kind}"
    path.write_bytes(download(quarter, claim, kind))
    result = verify(quarter.client.application, path)
    assert result.exit_code == 0, result.output
    assert f"claim {claim['code']}" in result.output


def test_changing_one_csv_cell_fails_and_names_the_row(quarter: Quarter, tmp_path: Path) -> None:
    claim = submitted(quarter)
    rows = list(csv.reader(io.StringIO(download(quarter, claim, "csv").decode("utf-8-sig"))))
    rows[3][RATE] = str(int(rows[3][RATE]) + 10)
    path = tmp_path / "claim.csv"
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_bytes(("\ufeff" + out.getvalue()).encode())
    result = verify(quarter.client.application, path)
    assert result.exit_code == 1
    assert f"CSV line 4 column {RATE + 1} (单价" in result.output
    assert f"device {rows[3][DEVICE]}" in result.output


def test_changing_one_xlsx_cell_fails_and_names_the_row(quarter: Quarter, tmp_path: Path) -> None:
    claim = submitted(quarter)
    path = tmp_path / "claim.xlsx"
    path.write_bytes(download(quarter, claim, "xlsx"))
    book = openpyxl.load_workbook(path)
    sheet = book[DETAIL_SHEET]
    sheet.cell(row=6, column=HEADERS.index("入厂重量(kg) Intake (kg)") + 1).value = 99.5
    device = sheet.cell(row=6, column=DEVICE + 1).value
    book.save(path)
    result = verify(quarter.client.application, path)
    assert result.exit_code == 1
    column = openpyxl.utils.get_column_letter(HEADERS.index("入厂重量(kg) Intake (kg)") + 1)
    assert f"cell {column}6 (入厂重量" in result.output and f"device {device}" in result.output


def test_a_device_tampered_after_submission_fails_verification(
    quarter: Quarter, tmp_path: Path
) -> None:
    claim = submitted(quarter)
    path = tmp_path / "claim.csv"
    path.write_bytes(download(quarter, claim, "csv"))
    victim = quarter.devices["fridge_500"]
    table = Event.__table__  # type: ignore[attr-defined]
    with trace_of(quarter.client.application).engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.device == victim, table.c.type == "received")
            .values(payload={"weight_g": 95000})
        )
    assert verify(quarter.client.application, path).exit_code == 0  # the file is as anchored
    result = verify(quarter.client.application, path, "--records")
    assert result.exit_code == 1
    assert f"device {victim}" in result.output and "failed" in result.output


def test_claim_rows_edited_in_the_database_no_longer_give_the_anchored_digest(
    quarter: Quarter, tmp_path: Path
) -> None:
    claim = submitted(quarter)
    path = tmp_path / "claim.csv"
    path.write_bytes(download(quarter, claim, "csv"))
    from traceability.claims.models import ClaimItem

    items = ClaimItem.__table__  # type: ignore[attr-defined]
    with trace_of(quarter.client.application).engine.begin() as conn:
        conn.execute(
            update(items).where(items.c.qr_id == quarter.devices["laptop"]).values(rate_yuan=400)
        )
    assert verify(quarter.client.application, path).exit_code == 0  # the file is as anchored
    result = verify(quarter.client.application, path, "--records")
    assert result.exit_code == 1
    assert "not the claim's" in result.output or "records give" in result.output


def test_a_sheet_with_no_rows_keeps_its_header(tmp_path: Path) -> None:
    """The XLSX writer takes a sheet's columns from its first row: a claim with no
    excluded devices (or none claimed) must still show the sheet's header."""
    path = tmp_path / "empty.xlsx"
    book = FastExcel(path)
    book.sheet(DETAIL_SHEET, sheet_records(HEADERS, []))
    book.sheet(EXCLUDED_SHEET, sheet_records(EXCLUSION_HEADERS, iter(())))
    book.save()
    read = openpyxl.load_workbook(path)
    assert next(read[DETAIL_SHEET].iter_rows(values_only=True)) == HEADERS
    assert next(read[EXCLUDED_SHEET].iter_rows(values_only=True)) == EXCLUSION_HEADERS
