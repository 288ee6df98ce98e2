"""The ledger's settings: keys and addresses checked, submitters in any of three spellings."""

from __future__ import annotations

from pathlib import Path

import pytest

from traceability.config import ConfigurationError, Settings

A = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
B = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


def env_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> Settings:
    for name, value in {"TRACE_ENV": "test", "TRACE_DATA_DIR": str(tmp_path), **env}.items():
        monkeypatch.setenv(name, value)
    return Settings()


@pytest.mark.parametrize(
    ("written", "submitters"),
    [
        (A, [A]),
        (A.lower(), [A]),
        (f"{A}, {B}", [A, B]),
        (f'["{A}", "{B}"]', [A, B]),
        ("", []),
    ],
)
def test_submitters_are_one_address_a_comma_list_or_a_json_list(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, written: str, submitters: list[str]
) -> None:
    settings = env_settings(monkeypatch, tmp_path, TRACE_LEDGER_SUBMITTERS=written)
    assert settings.ledger_submitters == submitters


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("TRACE_LEDGER_KEY", "ab" * 31 + "c", "TRACE_LEDGER_KEY must be 64 hexadecimal digits"),
        ("TRACE_LEDGER_OWNER_KEY", "0x" + "zz" * 32, "TRACE_LEDGER_OWNER_KEY must be hexadecimal"),
        ("TRACE_LEDGER_CONTRACT", A[:-1], "TRACE_LEDGER_CONTRACT '"),
        ("TRACE_LEDGER_REGISTRY_OWNER", A.replace("C518", "c518"), "wrong EIP-55 checksum"),
        ("TRACE_LEDGER_SUBMITTERS", f"{A},{B[:-2]}", "TRACE_LEDGER_SUBMITTERS: the address"),
        ("TRACE_LEDGER_SUBMITTERS", f'["{A}"', "TRACE_LEDGER_SUBMITTERS is not a JSON list"),
    ],
)
def test_malformed_ledger_settings_are_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str, words: str
) -> None:
    with pytest.raises(ConfigurationError, match=words.replace("[", r"\[")):
        env_settings(monkeypatch, tmp_path, **{name: value})


def test_empty_key_and_trust_file_variables_are_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = env_settings(monkeypatch, tmp_path, TRACE_LEDGER_KEY=" ", TRACE_LEDGER_TRUST_FILE="")
    assert settings.ledger_key is None and settings.ledger_trust_file is None


def test_a_trust_file_needs_rpc_mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(
        ConfigurationError, match=r"TRACE_LEDGER_TRUST_FILE .* TRACE_LEDGER_MODE=rpc"
    ):
        env_settings(monkeypatch, tmp_path, TRACE_LEDGER_TRUST_FILE=str(tmp_path / "trust.json"))
