"""Manifest numbers and waste codes as data (lots/data/manifests.toml, catalog.toml): what
they accept, and a malformed file failing at start naming the file and the key."""

from __future__ import annotations

import datetime as dt
import shutil
import tomllib
from pathlib import Path

import pytest

from traceability.catalog.models import DATA_DIR, parse_catalog
from traceability.errors import ValidationFailed
from traceability.lots.manifests import (
    DATA_FILE,
    Shipment,
    check_number,
    load_formats,
    normalise_number,
)

SUZHOU_PCB = Shipment(hazardous=True, hw_code="900-045-49", region="320500",
                      day=dt.date(2026, 1, 5))  # fmt: skip
PLASTICS = Shipment(hazardous=False, hw_code=None, region="320500", day=dt.date(2026, 1, 5))


@pytest.mark.parametrize(
    "number",
    [
        "202632050000000123",  # electronic: year, 移出地, an 8-digit sequence
        "2025320500123456",  # issued last year, a 6-digit sequence
        "3205490001",  # the 1999 paper format: 32 05, HW49, sequence 0001
    ],
)
def test_the_national_formats_are_accepted_for_a_hazardous_lot(number: str) -> None:
    check_number(number, SUZHOU_PCB, field="manifests[0].number")


@pytest.mark.parametrize(
    "number",
    [
        "X", "M-1", "YS-320500-20260105",  # no national format
        "202611000000000123",  # Beijing's number for a Suzhou shipment
        "202432050000000123",  # two years old
        "3205290001",  # a paper number of HW29 for a HW49 lot
        "20263205001234567890123",  # too long a sequence
    ],
)  # fmt: skip
def test_anything_else_is_refused_naming_the_field(number: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_number(number, SUZHOU_PCB, field="manifests[0].number")
    assert refused.value.field == "manifests[0].number"


def test_spaces_hyphens_and_case_are_normalised_before_the_check() -> None:
    assert normalise_number(" 2026-320500-00000123 ") == "202632050000000123"
    assert normalise_number("yd-2026-0815") == "YD-2026-0815"


def test_a_non_hazardous_lot_carries_a_document_number_with_a_digit() -> None:
    check_number("YD-2026-0815", PLASTICS, field="n")
    for bad in ("X", "ABCDEF", "Y"):
        with pytest.raises(ValidationFailed):
            check_number(bad, PLASTICS, field="n")


def test_every_format_cites_its_source() -> None:
    formats = load_formats()
    assert all(f.source for f in (*formats.hazardous, *formats.ordinary))
    assert "practice default" in formats.ordinary[0].source


def test_a_malformed_format_file_fails_naming_the_file_and_the_key(tmp_path: Path) -> None:
    raw = DATA_FILE.read_text(encoding="utf-8")
    broken = tmp_path / "manifests.toml"
    broken.write_text(raw.replace(r"(?P<sequence>\d{4})$", r"(?P<sequence>\d{4}$"), "utf-8")

    with pytest.raises(ValueError) as failed:
        load_formats(broken)

    assert str(broken) in str(failed.value)
    assert "hazardous.1.pattern" in str(failed.value)


def test_a_waste_code_on_a_non_hazardous_fraction_fails_naming_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    catalog = data / "catalog.toml"
    text = catalog.read_text(encoding="utf-8").replace(
        'plastics = { zh = "塑料", en = "Plastics", hazardous = false }',
        'plastics = { zh = "塑料", en = "Plastics", hazardous = false, hw_code = "900-045-49" }',
    )
    catalog.write_text(text, "utf-8")
    assert "hw_code" in tomllib.loads(text)["fractions"]["plastics"]

    with pytest.raises(ValueError) as failed:
        parse_catalog(data)

    assert "fractions.plastics" in str(failed.value) and "hw_code" in str(failed.value)
