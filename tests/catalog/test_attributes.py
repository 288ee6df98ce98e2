"""Category attributes are validated and stored in one hashable, readable form."""

from __future__ import annotations

from decimal import Decimal

import pytest

from traceability.catalog import load_catalog
from traceability.catalog.services import kg_to_grams, validate_attributes
from traceability.errors import ValidationFailed

WASHER = load_catalog().categories["washing_machine"]


@pytest.mark.parametrize(
    ("given", "stored"),
    [(10, "10"), ("6.50", "6.5"), (Decimal("0.5"), "0.5"), ("30", "30"), (3, "3")],
)
def test_decimal_attributes_are_plain_decimal_strings(given: object, stored: str) -> None:
    clean = validate_attributes(WASHER, {"type": "drum", "dry_load_kg": given})
    assert clean["dry_load_kg"] == stored
    assert Decimal(stored) == Decimal(str(given))


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"type": "drum"}, "attributes.dry_load_kg"),
        ({"type": "drum", "dry_load_kg": "6.55"}, "attributes.dry_load_kg"),
        ({"type": "drum", "dry_load_kg": 31}, "attributes.dry_load_kg"),
        ({"type": "tumble", "dry_load_kg": 6}, "attributes.type"),
        ({"type": "drum", "dry_load_kg": 6, "colour": "white"}, "attributes.colour"),
        ({"type": "drum", "dry_load_kg": True}, "attributes.dry_load_kg"),
    ],
)
def test_bad_attributes_name_their_field(attributes: dict, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_attributes(WASHER, attributes)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("kg", "grams"), [("24.5", 24500), (1, 1000), (Decimal("0.001"), 1), ("199.999", 199999)]
)
def test_weights_become_integer_grams(kg: object, grams: int) -> None:
    assert kg_to_grams(kg, field="weight_kg", max_kg=200) == grams


@pytest.mark.parametrize("kg", ["0", "-1", "0.0001", "200.001", "NaN", "Infinity", True, "x"])
def test_impossible_weights_are_refused(kg: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        kg_to_grams(kg, field="weight_kg", max_kg=200)
    assert caught.value.field == "weight_kg"
