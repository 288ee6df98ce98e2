"""Device QR IDs: unguessable, forgiving to type, strict about the check character."""

from __future__ import annotations

import re
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traceability.errors import TraceabilityError
from traceability.labels import ids
from traceability.labels.ids import (
    CHECK_ALPHABET,
    DATA_ALPHABET,
    CheckCharacterMismatch,
    InvalidQrId,
    format_id,
    is_valid_id,
    mint_id,
    normalise_id,
)

CANONICAL = re.compile(r"[0-9A-HJKMNP-TV-Z]{13}[0-9A-HJKMNP-TV-Z*~$=U]")
# Fixed IDs that cover check values in the digit range, the letter range and the
# special symbols, so substitution tests exercise every kind of check position.
SAMPLE_DATA = ["0000000000000", "ZZZZZZZZZZZZZ", "7KQ2M9XD4TZPA", "0000000000020"]


def _with_check(data: str) -> str:
    """Independent check-symbol computation: the data's integer value mod 37."""
    number = 0
    for symbol in data:
        number = number * 32 + DATA_ALPHABET.index(symbol)
    return data + CHECK_ALPHABET[number % 37]


def _samples() -> list[str]:
    return [_with_check(d) for d in SAMPLE_DATA] + [mint_id() for _ in range(4)]


# --- minting --------------------------------------------------------------------------


def test_minted_ids_are_canonical_and_valid() -> None:
    for _ in range(200):
        qr_id = mint_id()
        assert CANONICAL.fullmatch(qr_id), qr_id
        assert normalise_id(qr_id) == qr_id
        assert is_valid_id(qr_id)


def test_minted_ids_are_unique() -> None:
    minted = [mint_id() for _ in range(20_000)]
    assert len(set(minted)) == len(minted)


def test_minting_draws_65_bits_from_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[int] = []

    def fake_randbits(k: int) -> int:
        drawn.append(k)
        return (1 << k) - 1

    monkeypatch.setattr(secrets, "randbits", fake_randbits)
    assert mint_id() == _with_check("Z" * 13)
    assert drawn == [65] == [ids.DATA_BITS]
    monkeypatch.setattr(secrets, "randbits", lambda k: 0)
    assert mint_id() == "00000000000000"


def test_every_data_position_uses_the_whole_alphabet() -> None:
    """65 bits fill all 13 symbols: the first symbol is not stuck at a few values."""
    minted = [mint_id() for _ in range(3_000)]
    for position in range(13):
        assert {m[position] for m in minted} == set(DATA_ALPHABET), position


# --- error detection ------------------------------------------------------------------


def test_every_single_character_substitution_is_rejected() -> None:
    for qr_id in _samples():
        for position in range(len(qr_id)):
            alphabet = CHECK_ALPHABET if position == len(qr_id) - 1 else DATA_ALPHABET
            for symbol in alphabet:
                if symbol == qr_id[position]:
                    continue
                typo = qr_id[:position] + symbol + qr_id[position + 1 :]
                assert not is_valid_id(typo), (qr_id, typo)
                with pytest.raises(CheckCharacterMismatch):
                    normalise_id(typo)


def test_every_adjacent_transposition_is_rejected() -> None:
    for qr_id in _samples():
        for position in range(len(qr_id) - 1):
            a, b = qr_id[position], qr_id[position + 1]
            if a == b:
                continue
            swapped = qr_id[:position] + b + a + qr_id[position + 2 :]
            assert not is_valid_id(swapped), (qr_id, swapped)


@settings(max_examples=300, deadline=None)
@given(value=st.integers(min_value=0, max_value=(1 << 65) - 1), data=st.data())
def test_random_typos_never_pass(value: int, data: st.DataObject) -> None:
    qr_id = _with_check(ids._encode(value))
    assert is_valid_id(qr_id)
    position = data.draw(st.integers(0, 13))
    alphabet = CHECK_ALPHABET if position == 13 else DATA_ALPHABET
    symbol = data.draw(st.sampled_from(alphabet).filter(lambda s: s != qr_id[position]))
    assert not is_valid_id(qr_id[:position] + symbol + qr_id[position + 1 :])


# --- normalisation --------------------------------------------------------------------


def _variants(qr_id: str) -> list[str]:
    grouped = format_id(qr_id)
    lookalike = qr_id.replace("0", "O").replace("1", "l")
    return [
        qr_id.lower(),
        grouped,
        grouped.lower(),
        " ".join(qr_id),
        f"  {grouped}\n",
        lookalike,
        lookalike.lower(),
        qr_id.replace("1", "I"),
        "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in qr_id),  # full-width IME
        f"https://trace.example.cn/d/{qr_id}",
        f"https://trace.example.cn/d/{qr_id}/",
        f"https://trace.example.cn/d/{qr_id}?src=label#top",
        f"HTTPS://TRACE.EXAMPLE.CN/D/{qr_id.lower()}",
        f"http://10.0.0.5:8080/prefix/d/{grouped}",
        f"trace.example.cn/d/{qr_id}",
        f"/d/{qr_id}",
        f"https://trace.example.cn/d/{qr_id.replace('$', '%24').replace('*', '%2A')}",
    ]


@pytest.mark.parametrize("data", ["01LO1O0000001", "7KQ2M9XD4TZPA", "0000000000020"])
def test_normalisation_round_trips(data: str) -> None:
    qr_id = _with_check(data.translate(str.maketrans("LO", "10")))
    for variant in _variants(qr_id):
        assert normalise_id(variant) == qr_id, variant
        assert is_valid_id(variant), variant


def test_round_trip_for_ids_with_special_check_symbols() -> None:
    found = {}
    value = 0
    while len(found) < 5:
        data = ids._encode(value)
        check = ids._check_symbol(data)
        if check in "*~$=U":
            found.setdefault(check, data + check)
        value += 1
    for qr_id in found.values():
        for variant in _variants(qr_id):
            assert normalise_id(variant) == qr_id, variant


def test_display_form_groups_the_canonical_form() -> None:
    qr_id = _with_check("7KQ2M9XD4TZPA")
    assert format_id(qr_id) == f"7KQ2-M9XD-4TZP-A{qr_id[-1]}"
    assert format_id(format_id(qr_id).lower()) == format_id(qr_id)


# --- invalid input --------------------------------------------------------------------

VALID = _with_check("7KQ2M9XD4TZPA")
WRONG_CHECK = VALID[:-1] + ("0" if VALID[-1] != "0" else "1")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param("", "empty", id="empty"),
        pytest.param("  - -  ", "empty", id="only separators"),
        pytest.param("7KQ2M9XD4TZP", "wrong_length", id="too short"),
        pytest.param(VALID + "0", "wrong_length", id="too long"),
        pytest.param("x" * 5000, "wrong_length", id="absurdly long"),
        pytest.param(VALID[:5] + "!" + VALID[6:], "invalid_character", id="punctuation"),
        pytest.param(VALID[:5] + "é" + VALID[6:], "invalid_character", id="accented letter"),
        pytest.param("U" + VALID[1:], "invalid_character", id="U in a data position"),
        pytest.param("*" + VALID[1:], "invalid_character", id="check symbol in data"),
        pytest.param("设备" + VALID, "invalid_character", id="chinese text"),
        pytest.param(WRONG_CHECK, "check_character_mismatch", id="wrong check"),
        pytest.param(VALID[1] + VALID[0] + VALID[2:], "check_character_mismatch", id="swap"),
        pytest.param(f"https://x.cn/devices/{VALID}", "not_a_device_url", id="other url"),
        pytest.param("https://x.cn/d/", "not_a_device_url", id="url without id"),
        pytest.param("https://x.cn/d/1234", "wrong_length", id="url with short id"),
        pytest.param(12345678901234, "not_text", id="not text"),
    ],
)
def test_invalid_input_is_rejected_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidQrId) as caught:
        normalise_id(raw)
    error = caught.value
    assert error.reason == reason
    assert error.field == "qr_id"
    assert str(error) and error.message == str(error)
    assert not is_valid_id(raw)


def test_check_mismatch_is_a_domain_error_the_api_can_map() -> None:
    with pytest.raises(CheckCharacterMismatch) as caught:
        normalise_id(WRONG_CHECK)
    error = caught.value
    assert isinstance(error, InvalidQrId)
    assert isinstance(error, ValueError)
    assert isinstance(error, TraceabilityError)
    assert error.to_dict() == {
        "code": "check_character_mismatch",
        "message": error.message,
        "field": "qr_id",
    }
    assert error.raw == WRONG_CHECK
    assert error.expected == VALID[-1]


@settings(max_examples=300, deadline=None)
@given(raw=st.text(max_size=60))
def test_arbitrary_text_is_either_an_id_or_an_invalid_qr_id(raw: str) -> None:
    try:
        qr_id = normalise_id(raw)
    except InvalidQrId as error:
        assert error.reason in {
            "empty",
            "wrong_length",
            "invalid_character",
            "check_character_mismatch",
            "not_a_device_url",
        }
    else:
        assert CANONICAL.fullmatch(qr_id)
