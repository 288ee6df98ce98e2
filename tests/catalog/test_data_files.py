"""Every catalogue data file loads through its schema with its source; a malformed one
fails at start naming the file and the key (issue 17, "Must show")."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.support.databases import default_settings
from traceability import create_app
from traceability.catalog.files import CatalogDataError
from traceability.catalog.models import DATA_DIR, FILES, parse_catalog
from traceability.cli import main as cli

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "traceability/demo/data/rates-example.toml"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A copy of the shipped catalogue data a test may break."""
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def test_every_file_names_its_source() -> None:
    catalog = parse_catalog()
    assert "目录（2014年版）" in catalog.source and "国家危险废物名录" in catalog.source
    assert "practice" in catalog.dismantling.source.lower()
    assert "practice" in catalog.bands.source.lower() and catalog.bands.label
    assert all(f.source for f in catalog.factor_sets.values())
    assert all(s.source for s in catalog.rate_schedules.values())
    assert set(FILES.values()) == {p.name for p in DATA_DIR.glob("*.toml")}


#: file → (text to replace, its replacement, the key the error must name, words of the error)
BREAKAGES: dict[str, tuple[str, str, str, str]] = {
    "catalog.toml": (
        'attributes.backlight = { kind = "enum", values = ["ccfl", "led"], required = true, '
        'applies = { display = "lcd" } }',
        'attributes.backlight = { kind = "enum", values = ["ccfl", "led"], required = true, '
        'applies = { display = "lcd-tv" } }',
        "categories.tv.attributes.backlight.applies",
        "no value",
    ),
    "dismantling_rules.toml": (
        'required = ["pcb", "pdp_panel"]',
        'required = ["pcb", "pdp_pannel"]',
        "rules[3].required",
        "unknown fraction 'pdp_pannel'",
    ),
    "bands.toml": (
        'min_kg = { compressor = "1", refrigerant = "0.01", pu_foam = "0.5" }',
        'min_kg = { compressor = "1", refrigerant = "-0.01", pu_foam = "0.5" }',
        "bands[5]",
        "above 0 kg",
    ),
    "factors.toml": ('co2_t = "4.73"', 'co2_t = "four"', "sets[0].co2_t", "decimal"),
    "rates.toml": (
        "when = { volume_l = { min = 50, max = 500 } }",
        "when = { volume = { min = 50, max = 500 } }",
        "schedules[1].tiers[8].when",
        "no attribute 'volume'",
    ),
}


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_a_malformed_file_is_refused_naming_the_file_and_the_key(data_dir: Path, name: str) -> None:
    old, new, key, words = BREAKAGES[name]
    path = data_dir / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogDataError) as caught:
        parse_catalog(data_dir)
    error = caught.value
    assert (error.path, error.key) == (path, key)
    assert str(path) in str(error) and key in str(error) and words in str(error).lower()


@pytest.mark.parametrize("name", list(FILES.values()))
def test_a_file_that_is_not_toml_or_missing_is_named(data_dir: Path, name: str) -> None:
    path = data_dir / name
    path.write_text(path.read_text(encoding="utf-8") + "\n[broken\n", encoding="utf-8")
    with pytest.raises(CatalogDataError, match="is not valid TOML") as caught:
        parse_catalog(data_dir)
    assert caught.value.path == path
    path.unlink()
    with pytest.raises(CatalogDataError, match="cannot be read") as caught:
        parse_catalog(data_dir)
    assert caught.value.path == path


def test_an_unknown_key_is_named(data_dir: Path) -> None:
    path = data_dir / "catalog.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("max_weight_kg = 400\n", "max_weight = 400\n", 1),
        encoding="utf-8",
    )
    with pytest.raises(CatalogDataError) as caught:
        parse_catalog(data_dir)
    assert caught.value.key == "categories.refrigerator.max_weight_kg"  # required, missing


def test_a_hazardous_fraction_without_its_code_is_refused(data_dir: Path) -> None:
    path = data_dir / "catalog.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(', hw_code = "900-219-08"', "", 1), encoding="utf-8")
    with pytest.raises(CatalogDataError, match="国家危险废物名录 code") as caught:
        parse_catalog(data_dir)
    assert caught.value.key == "fractions.compressor_oil"


def _broken_deployment_file(tmp_path: Path) -> Path:
    path = tmp_path / "province.toml"
    text = EXAMPLE.read_text(encoding="utf-8").replace("rates = [90]", "rates = [90, 80]", 1)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_app_does_not_start_on_a_malformed_deployment_schedule(tmp_path: Path) -> None:
    path = _broken_deployment_file(tmp_path)
    settings: dict[str, Any] = default_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    with pytest.raises(CatalogDataError) as caught:
        create_app({**settings, "rate_schedules": path})
    assert caught.value.path == path.resolve()
    assert caught.value.key == "schedules[0].tiers[10]"
    assert "one rate per effective date" in str(caught.value)


def test_the_command_line_says_which_file_and_key_and_exits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _broken_deployment_file(tmp_path)
    monkeypatch.setenv("TRACE_RATE_SCHEDULES", str(path))
    monkeypatch.setenv("TRACE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRACE_ENV", "development")
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 1
    assert f"{path.resolve()}: schedules[0].tiers[10]" in result.output
    assert "Traceback" not in result.output
