"""Event digests: RFC 8785 canonical JSON, whichever code path produces it."""

from __future__ import annotations

import hashlib

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.canonical import (
    NotCanonicalisable,
    canonical_json,
    digest_hex,
    digest_matches,
    event_content,
)

# Any JSON the reference accepts: full Unicode (astral, controls, U+2028),
# integers up to and beyond the safe range, nesting.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_canonical_bytes_equal_the_rfc8785_reference(content: dict) -> None:
    try:
        expected = rfc8785.dumps(content)
    except rfc8785.CanonicalizationError:
        with pytest.raises((rfc8785.CanonicalizationError, NotCanonicalisable)):
            canonical_json(content)
        return
    assert canonical_json(content) == expected


def test_keys_outside_the_bmp_sort_by_utf16_code_units() -> None:
    # U+1F600 is D83D DE00 in UTF-16 and sorts before U+FF01 there, after it by code point.
    content = {"\uff01": 1, "\U0001f600": 2}
    assert canonical_json(content) == rfc8785.dumps(content)
    assert canonical_json(content).index("\U0001f600".encode()) < canonical_json(content).index(
        "\uff01".encode()
    )


@pytest.mark.parametrize("bad", [1.5, {"w": 0.1}, [1, 2.0]])
def test_floats_are_refused_anywhere(bad: object) -> None:
    with pytest.raises(NotCanonicalisable):
        canonical_json({"payload": bad})


def test_digest_is_sha256_of_the_canonical_event() -> None:
    content = event_content(
        id="0b6f1c8e-8a4e-4c55-9d43-3f4c5d6e7f80",
        type="received",
        org="DIS-SZ",
        actor="li",
        occurred_at="2026-11-25T01:02:03.000004Z",
        recorded_at="2026-11-25T01:02:04.000000Z",
        payload={"weight_g": 30250},
        prev="ab" * 32,
        device="7KQ2M9XD4TZPAB",
    )
    expected = hashlib.sha256(rfc8785.dumps(content)).hexdigest()
    assert digest_hex(content) == expected
    assert digest_hex({**content, "payload": {"weight_g": 30251}}) != expected


def test_an_event_names_exactly_one_subject() -> None:
    common = dict(
        id="x",
        type="t",
        org="o",
        actor="a",
        occurred_at="t",
        recorded_at="t",
        payload={},
        prev=None,
    )
    with pytest.raises(ValueError, match="exactly one"):
        event_content(**common)
    with pytest.raises(ValueError, match="exactly one"):
        event_content(**common, device="d", lot="l")


@pytest.mark.parametrize(
    "text",
    [
        "\x00\x01\x08\t\n\x0b\x0c\r\x1f",  # short and \u00xx escapes
        '"\\/',  # quote and backslash escaped, solidus not
        "\x7f\x80\x9f\u2028\u2029\ufeff",  # written as themselves
        "\U0001f600 astral in a value",
    ],
)
def test_string_escapes_match_the_reference(text: str) -> None:
    content = {"payload": {"note": text, "list": [text]}, text[:1] or "k": 1}
    assert canonical_json(content) == rfc8785.dumps(content)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6), st.text(max_size=8))
def test_a_digest_matches_its_content_and_nothing_else(content: dict, extra: str) -> None:
    try:
        digest = digest_hex(content)
    except (rfc8785.CanonicalizationError, NotCanonicalisable):
        assert not digest_matches(content, "0" * 64)
        return
    assert digest_matches(content, digest)
    changed = {**content, extra: "changed"} if content.get(extra) != "changed" else {}
    assert not digest_matches(changed, digest)


def test_content_matched_by_the_exact_path_only() -> None:
    """Keys outside the BMP sort differently in orjson: the exact path decides."""
    content = {"\uff01": 1, "\U0001f600": 2}
    assert digest_matches(content, digest_hex(content))
    assert not digest_matches({"\uff01": 1, "\U0001f600": 3}, digest_hex(content))


@pytest.mark.parametrize("bad", [{"weight_g": 30.5}, {1: "a"}, {"n": 2**70}, {"w": [0.1]}])
def test_content_without_a_canonical_form_matches_nothing(bad: dict) -> None:
    """What a database admin may write into a payload is tampered, not a crash."""
    honest = digest_hex({"weight_g": 30500})
    assert digest_matches(bad, honest) is False
