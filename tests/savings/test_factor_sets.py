"""Factor sets and rate schedules carry a content hash that every figure names (SPEC §2.5, §2.6).

The hash is SHA-256 over the RFC 8785 canonical JSON of the data as loaded
and validated, so it follows the values, not the layout of the TOML file.
"""

from __future__ import annotations

import shutil
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.canonical import digest_hex
from traceability.catalog.models import DATA_DIR, parse_catalog
from traceability.catalog.services import catalog_public
from traceability.savings.services import Savings

DEFAULT_SET = "mee-scc-2012-2021"
DEFAULT_SCHEDULE = "national-fund-2012-2021"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A copy of the shipped catalogue data a test may edit."""
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def test_a_factor_set_hash_is_the_sha256_of_its_canonical_content() -> None:
    with (DATA_DIR / "factors.toml").open("rb") as fh:
        [table] = [s for s in tomllib.load(fh)["sets"] if s["id"] == DEFAULT_SET]

    factor_set = parse_catalog().factor_sets[DEFAULT_SET]

    assert factor_set.sha256 == digest_hex(table)
    assert len(factor_set.sha256) == 64


def test_changing_a_factor_changes_the_hash(data_dir: Path) -> None:
    path = data_dir / "factors.toml"
    path.write_text(path.read_text().replace('co2_t = "4.73"', 'co2_t = "4.74"'))

    before = parse_catalog().factor_sets[DEFAULT_SET]
    after = parse_catalog(data_dir).factor_sets[DEFAULT_SET]

    assert after.co2_t == Decimal("4.74")
    assert after.sha256 != before.sha256


def test_comments_and_layout_do_not_change_the_hash(data_dir: Path) -> None:
    path = data_dir / "factors.toml"
    path.write_text("# reformatted\n\n" + path.read_text().replace(" = ", "="))

    assert (
        parse_catalog(data_dir).factor_sets[DEFAULT_SET].sha256
        == parse_catalog().factor_sets[DEFAULT_SET].sha256
    )


def test_changing_a_rate_changes_the_schedule_hash(data_dir: Path) -> None:
    path = data_dir / "rates.toml"
    text = path.read_text()
    assert "rates = [60, 40]" in text  # CRT 14–25″ from 2016-01-01 and 2021-04-01
    path.write_text(text.replace("rates = [60, 40]", "rates = [60, 41]", 1))

    before = parse_catalog().rate_schedules[DEFAULT_SCHEDULE]
    after = parse_catalog(data_dir).rate_schedules[DEFAULT_SCHEDULE]

    assert after.sha256 != before.sha256
    assert len(after.sha256) == 64


def test_savings_name_the_factor_set_and_its_hash() -> None:
    factor_set = parse_catalog().factor_sets[DEFAULT_SET]

    named = Savings(1_000_000, factor_set).to_dict()["factor_set"]

    assert named == {"id": DEFAULT_SET, "source": factor_set.source, "sha256": factor_set.sha256}


def test_the_public_catalogue_shows_every_hash() -> None:
    catalog = parse_catalog()

    public = catalog_public(catalog)

    assert {s["id"]: s["sha256"] for s in public["factor_sets"]} == {
        k: v.sha256 for k, v in catalog.factor_sets.items()
    }
    assert {s["id"]: s["sha256"] for s in public["rate_schedules"]} == {
        k: v.sha256 for k, v in catalog.rate_schedules.items()
    }
