"""The EPCIS event hash ID: an event's identity computed from its content (SPEC §4.2).

GS1 CBV 2.0 §8.9 ("EPCIS Event Hash ID"): the event's fields are written out
in a canonical order as a *pre-hash string* (``key=value``, no separators;
lists sorted; times in UTC with milliseconds; numbers without trailing zeros;
bare CBV terms as their Web URIs; user extensions as ``{namespace}name=value``,
sorted) and its SHA-256 is written as an RFC 6920 ``ni`` URI::

    ni:///sha-256;<hex>?ver=CBV2.0

``recordTime``, ``eventID`` and ``errorDeclaration`` are not part of it: an
event and its later error declaration share the ID. Where the algorithm's
text leaves a choice open, this module does what GS1's reference
implementation (``epcis-event-hash-generator`` 1.9.3, its published examples
included) does, and the tests compare the two on every event the export
writes: ``bizTransactionList``, ``sourceList`` and ``destinationList`` are
written after ``bizLocation`` among the extensions, sorted with them, each
entry as ``type=…`` then its identifier; a JSON ``true`` reads ``True``.

Two deliberate differences, both where the reference gives an event's hash
that depends on something other than the event: a source's type and
identifier are ordered the same whatever their order in the JSON (the
reference follows the JSON's key order), and an extension's value is never
rewritten (the reference turns any string equal to a CBV term used anywhere
in the *document* into that term's URI).

Not implemented, refused with ``UnsupportedEvent``: sensor data, ILMD,
certification info, persistent dispositions, event-level JSON-LD keywords,
and EPC URNs and GS1 Digital Link URIs (which the algorithm rewrites to
canonical ``https://id.gs1.org`` URIs). This system's identifiers are
URIs of its own, and capture refuses what it cannot map anyway.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from traceability.epcis.cbv import URN_PREFIXES, web_uri

PREFIX = "ni:///sha-256;"
SUFFIX = "?ver=CBV2.0"

#: Not hashed at all: the event's type is written first, the rest is not content.
_IGNORED = frozenset({"type", "eventID", "recordTime", "errorDeclaration"})
#: Ignored wherever they appear, as the reference does.
_COMMENTS = frozenset({"#text", "rdfs:comment", "comment"})
_UNSUPPORTED = frozenset(
    {"certificationInfo", "persistentDisposition", "sensorElementList", "ilmd"}
)
_EPC_LISTS = frozenset({"epcList", "inputEPCList", "childEPCs", "outputEPCList"})
_QUANTITY_LISTS = frozenset(
    {"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"}
)
_QUANTITY_FIELDS = ("epcClass", "quantity", "uom")
_LOCATIONS = frozenset({"readPoint", "bizLocation"})
_VOCABULARY_FIELDS = {"bizStep": "bizStep", "disposition": "disposition"}
#: The canonical property order (CBV 2.0 §8.9, as the reference orders it).
_ORDER = (
    "eventTime", "eventTimeZoneOffset", "parentID", "epcList", "inputEPCList", "childEPCs",
    "quantityList", "childQuantityList", "inputQuantityList", "outputEPCList",
    "outputQuantityList", "action", "transformationID", "bizStep", "disposition",
    "readPoint", "bizLocation",
)  # fmt: skip
#: Lists of typed entries: the entry's identifier key and the vocabulary of its type.
_PARTY_LISTS = {
    "bizTransactionList": ("bizTransaction", "bizTransactionType"),
    "sourceList": ("source", "sourceDestinationType"),
    "destinationList": ("destination", "sourceDestinationType"),
}
#: Names the reference renames inside nested structures: refused there.
_RENAMED = frozenset(
    {"inputEPC", "outputEPC", "inputQuantity", "outputQuantity", "childQuantity", "childEPCs"}
)
_GS1_KEY_URI = re.compile(
    r"^https?://[^/?#]*(/[^?#]*)?/(01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|"
    r"8018|gsrn|255|gcn|00|sscc|253|gdti|401|ginc|402|gsin|8003|grai|8004|giai)/\d{4}"
)


#: What a text float() reads may start with (besides a non-ASCII digit): "1", "-1", ".5",
#: "inf", "nan".
_NUMBER_STARTS = frozenset("0123456789+-.iInN")


class UnsupportedEvent(ValueError):
    """The event has something this implementation does not hash (``field`` names it)."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}")
        self.field = field


def prefixes_of(context: Any) -> dict[str, str]:
    """The namespace prefixes a document's ``@context`` declares (``{"trace": "https://…#"}``)."""
    found: dict[str, str] = {}
    for part in context if isinstance(context, list) else [context]:
        if isinstance(part, Mapping):
            found.update({k: v for k, v in part.items() if isinstance(v, str)})
    return found


def event_hash(event: Mapping[str, Any], prefixes: Mapping[str, str]) -> str:
    """The event's hash ID, ``ni:///sha-256;…?ver=CBV2.0``."""
    digest = hashlib.sha256(prehash(event, prefixes).encode("utf-8")).hexdigest()
    return f"{PREFIX}{digest}{SUFFIX}"


def is_event_hash(value: Any) -> bool:
    return (
        isinstance(value, str)
        and value.startswith(PREFIX)
        and value.endswith(SUFFIX)
        and re.fullmatch(r"[0-9a-f]{64}", value[len(PREFIX) : -len(SUFFIX)]) is not None
    )


def prehash(event: Mapping[str, Any], prefixes: Mapping[str, str]) -> str:
    """The pre-hash string: the ordered standard fields, then everything else sorted."""
    kind = event.get("type")
    if not isinstance(kind, str) or not kind:
        raise UnsupportedEvent("type", "every event names its type")
    for key in event:
        if key in _UNSUPPORTED or key.startswith("@"):
            raise UnsupportedEvent(key, "not hashed by this implementation")
    ordered = "".join(_ordered(name, event[name], prefixes) for name in _ORDER if name in event)
    rest = [
        _node(_key(key, prefixes), value, prefixes, top=True)
        for key, value in event.items()
        if key not in _IGNORED and key not in _COMMENTS and key not in _ORDER
    ]
    return f"eventType={kind}{ordered}{''.join(sorted(s for r in rest for s in r))}"


def fragments(event: Mapping[str, Any], prefixes: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Each hashed field by its expanded name: (its key as written, its part of the pre-hash
    string). What two events that hash differently differ in."""
    kind = str(event.get("type", ""))
    parts = {}
    for key, value in event.items():
        if key in _IGNORED or key in _COMMENTS:
            continue
        try:
            part = prehash({"type": kind, key: value}, prefixes)
        except UnsupportedEvent:
            part = "unsupported"
        parts[_key(key, prefixes)] = (key, part)
    return parts


# -- the ordered standard fields ----------------------------------------------------


def _ordered(name: str, value: Any, prefixes: Mapping[str, str]) -> str:
    if name in _EPC_LISTS:
        return _listed(name, [_pair("epc", v, prefixes) for v in _items(name, value)])
    if name in _QUANTITY_LISTS:
        return _listed(name, [_quantity(name, q, prefixes) for q in _items(name, value)])
    if name in _LOCATIONS:
        if not isinstance(value, Mapping) or set(value) - {"id"} - _COMMENTS:
            raise UnsupportedEvent(name, "only an id is hashed here")
        return _listed(name, [_pair("id", value.get("id"), prefixes)])
    if name in _VOCABULARY_FIELDS and isinstance(value, str):
        value = web_uri(_VOCABULARY_FIELDS[name], value)
    if name == "eventTime":
        text = _scalar(value).strip()
        return f"{name}={_time(text)}" if text else ""
    return _pair(name, value, prefixes)


def _items(name: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise UnsupportedEvent(name, "must be a list")
    return value


def _listed(name: str, parts: Iterable[str]) -> str:
    text = "".join(sorted(p for p in parts if p))
    return f"{name}{text}" if text else ""


def _pair(name: str, value: Any, prefixes: Mapping[str, str]) -> str:
    text = _value(value, prefixes).strip()
    return f"{name}={_canonical(text, name)}" if text else ""


def _quantity(name: str, element: Any, prefixes: Mapping[str, str]) -> str:
    if not isinstance(element, Mapping) or set(element) - set(_QUANTITY_FIELDS) - _COMMENTS:
        raise UnsupportedEvent(name, "a quantity is {epcClass, quantity, uom}")
    text = "".join(_pair(f, element[f], prefixes) for f in _QUANTITY_FIELDS if f in element)
    return f"quantityElement{text}" if text else ""


# -- values ----------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    """A JSON scalar as text, as the reference writes it (``True``, ``None``, ``30.5``)."""
    if type(value) is str:  # the common case, before the slower ABC check
        return value
    if isinstance(value, Mapping | list):
        raise UnsupportedEvent("value", "an object or list where a value belongs")
    return value if isinstance(value, str) else str(value)


def _canonical(text: str, field: str) -> str:
    """CBV URNs as Web URIs, numbers without trailing zeros; GS1 keys are refused."""
    if "urn:epcglobal:cbv:" in text:
        for urn, web in URN_PREFIXES:
            text = text.replace(urn, web)
    if text.startswith("urn:epc:") or _GS1_KEY_URI.match(text):
        raise UnsupportedEvent(field, "EPC URNs and GS1 Digital Link URIs are not hashed here")
    if not text or (text[0].isascii() and text[0] not in _NUMBER_STARTS):
        return text  # float() would refuse it: a URI, a word
    try:
        number = float(text)
    except ValueError:
        return text
    try:
        return str(int(number)) if int(number) == number else str(number)
    except (ValueError, OverflowError):  # nan, inf: left as written
        return text


def _time(text: str) -> str:
    """UTC with milliseconds: ``2026-07-01T02:00:00.000Z`` (microseconds rounded half to even)."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UnsupportedEvent("eventTime", "not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise UnsupportedEvent("eventTime", "needs a UTC offset")
    value = value.astimezone(dt.UTC)
    micro = round(value.microsecond, -3)
    value = value.replace(microsecond=0) + dt.timedelta(microseconds=micro)
    return value.isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"


# -- everything else: typed lists, extensions ---------------------------------------


def _key(key: str, prefixes: Mapping[str, str]) -> str:
    """``trace:weightKg`` as ``{https://…/ns/trace#}weightKg`` (a declared prefix only)."""
    prefix, sep, local = key.partition(":")
    return f"{{{prefixes[prefix]}}}{local}" if sep and prefix in prefixes else key


def _value(value: Any, prefixes: Mapping[str, str]) -> str:
    text = _scalar(value)
    prefix, sep, rest = text.partition(":")
    return prefixes[prefix] + rest if sep and prefix in prefixes else text


def _node(name: str, value: Any, prefixes: Mapping[str, str], *, top: bool = False) -> list[str]:
    """The pre-hash strings of one key: one per element of a list not named ``…List``."""
    if name in _PARTY_LISTS and top:
        return [name + "".join(sorted(_party(name, e) for e in _items(name, value)))]
    if isinstance(value, list):
        if name.endswith("List"):  # the reference's XML view: a list of ``name[:-4]``s
            inner = sorted(s for v in value for s in _node(name[:-4], v, prefixes))
            return [name + "".join(inner)] if value else []
        if any(isinstance(v, list) for v in value):
            raise UnsupportedEvent(name, "lists of lists are not hashed here")
        return [s for v in value for s in _node(name, v, prefixes)]
    if name in _RENAMED or (name == "quantity" and isinstance(value, Mapping)):
        raise UnsupportedEvent(name, "not hashed here inside an extension")
    if isinstance(value, Mapping):
        return [name + _children(value, prefixes)]
    text = _value(value, prefixes).strip()
    return [f"{name}={_canonical(text, name)}" if text else name]


def _children(value: Mapping[str, Any], prefixes: Mapping[str, str]) -> str:
    parts = [
        s
        for k, v in value.items()
        if k not in _COMMENTS
        for s in _node(_key(k, prefixes), v, prefixes)
    ]
    if any(k in value for k in ("bizTransaction", "source", "destination")):
        return "".join(parts)  # the reference keeps such an object's order
    return "".join(sorted(parts))


def _party(name: str, entry: Any) -> str:
    """``type=<type URI>`` then ``source=<id>`` (whatever the order in the JSON)."""
    key, vocabulary = _PARTY_LISTS[name]
    if not isinstance(entry, Mapping) or set(entry) - {key, "type"} - _COMMENTS:
        raise UnsupportedEvent(name, f"an entry is {{type, {key}}}")
    parts = []
    for field in ("type", key):
        if field not in entry:
            continue
        raw = entry[field]
        text = (web_uri(vocabulary, raw) if field == "type" and isinstance(raw, str) else
                _scalar(raw)).strip()  # fmt: skip
        parts.append(f"{field}={_canonical(text, name)}" if text else field)
    return "".join(parts)
