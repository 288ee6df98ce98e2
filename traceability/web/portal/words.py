"""Words the portal's templates translate from data (statuses, event types, severities).

Listed here so that ``make messages`` extracts them; the templates call
``_(value)`` with the value itself.
"""

from __future__ import annotations

from flask_babel import lazy_gettext

WORDS = (
    # event and device verification
    lazy_gettext("verified"),
    lazy_gettext("late"),
    lazy_gettext("pending"),
    lazy_gettext("tampered"),
    lazy_gettext("broken_chain"),
    lazy_gettext("missing_on_chain"),
    lazy_gettext("untrusted"),
    lazy_gettext("failed"),
    lazy_gettext("unknown"),
    # event types
    lazy_gettext("collected"),
    lazy_gettext("shipped"),
    lazy_gettext("received"),
    lazy_gettext("stored"),
    lazy_gettext("dismantled"),
    lazy_gettext("refused"),
    lazy_gettext("corrected"),
    lazy_gettext("lot_shipped"),
    lazy_gettext("lot_received"),
    lazy_gettext("lot_treated"),
    lazy_gettext("stocktake"),
    # device states
    lazy_gettext("in_transit"),
    # lot states (shipped and received are above)
    lazy_gettext("open"),
    lazy_gettext("treated"),
    # severities
    lazy_gettext("high"),
    lazy_gettext("medium"),
    lazy_gettext("low"),
    # ledger and anchor states
    lazy_gettext("off"),
    lazy_gettext("ok"),
    lazy_gettext("unavailable"),
    lazy_gettext("chain_reset"),
    lazy_gettext("submitted"),
    lazy_gettext("confirmed"),
    lazy_gettext("final"),
    lazy_gettext("lost"),
    # claims: states, review outcomes and decisions, event types
    lazy_gettext("approved"),
    lazy_gettext("rejected"),
    lazy_gettext("reinstated"),
    lazy_gettext("approve"),
    lazy_gettext("reject"),
    lazy_gettext("reinstate"),
    lazy_gettext("projection_mismatch"),
)

#: A device's attributes as people call them: the handheld's words
#: (static/src/scan/steps.js attributeLabel and attributeValue), one catalogue.
ATTRIBUTE_NAMES = {
    "display": lazy_gettext("Display"),
    "screen_in": lazy_gettext("Screen size (in)"),
    "volume_l": lazy_gettext("Volume (L)"),
    "type": lazy_gettext("Type"),
    "dry_load_kg": lazy_gettext("Dry load (kg)"),
    "form": lazy_gettext("Form"),
    "cooling_w": lazy_gettext("Cooling capacity (W)"),
    "backlight": lazy_gettext("Backlight"),
    "with_display": lazy_gettext("Came with its display"),
}
ATTRIBUTE_VALUES = {
    "crt": lazy_gettext("CRT"),
    "flat": lazy_gettext("flat panel"),
    "lcd": lazy_gettext("LCD"),
    "plasma": lazy_gettext("plasma"),
    "oled": lazy_gettext("OLED"),
    "rear_projection": lazy_gettext("rear projection"),
    "ccfl": lazy_gettext("CCFL (mercury lamps)"),
    "led": lazy_gettext("LED"),
    "single_tub": lazy_gettext("single tub"),
    "spin_dryer": lazy_gettext("spin dryer"),
    "agitator": lazy_gettext("agitator"),
    "twin_tub": lazy_gettext("twin tub"),
    "top_load_auto": lazy_gettext("top-load automatic"),
    "drum": lazy_gettext("drum"),
    "integral": lazy_gettext("window (integral)"),
    "split": lazy_gettext("split"),
    "multi_split": lazy_gettext("multi-split"),
    "desktop": lazy_gettext("desktop"),
    "all_in_one": lazy_gettext("all-in-one"),
    "laptop": lazy_gettext("laptop"),
    "tablet": lazy_gettext("tablet"),
    "palmtop": lazy_gettext("palmtop"),
}


def attribute_words(attributes: dict[str, object]) -> list[tuple[str, str]]:
    """(name, value) of each attribute in the page's language; unknown ones as recorded."""
    shown = []
    for name, value in sorted(attributes.items()):
        if isinstance(value, bool):
            text = str(lazy_gettext("yes") if value else lazy_gettext("no"))
        else:
            text = str(ATTRIBUTE_VALUES.get(str(value), value))
        shown.append((str(ATTRIBUTE_NAMES.get(name, name)), text))
    return shown


#: The fields a correction changes, as the handheld names them (static/src/scan/words.js).
FIELD_NAMES = {
    "weight_g": lazy_gettext("Weight (kg)"),
    "weight_kg": lazy_gettext("Weight (kg)"),
    "brand": lazy_gettext("Brand"),
    "model": lazy_gettext("Model"),
    "serial": lazy_gettext("Serial no."),
    "source": lazy_gettext("Source"),
    "manifest_no": lazy_gettext("Manifest no."),
    "area": lazy_gettext("Storage area"),
    "line": lazy_gettext("Line"),
    "reason": lazy_gettext("Reason"),
    "attributes": lazy_gettext("Attributes"),
}


def field_name(field: str) -> str:
    """A recorded field's name in the page's language (as recorded when unknown)."""
    return str(FIELD_NAMES.get(field, field))


def value_words(field: str, value: object) -> str:
    """A recorded value as a reviewer reads it: grams as kg, attributes in words."""
    if value is None:
        return "—"
    if field == "weight_g" and type(value) is int:
        return f"{value / 1000:g} kg"
    if field == "attributes" and isinstance(value, dict):
        return " · ".join(f"{name} {text}" for name, text in attribute_words(value))
    return str(ATTRIBUTE_VALUES.get(str(value), value))
