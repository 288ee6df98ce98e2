"""The field types of submitted messages, in the words a floor worker understands.

Each type is an ``Annotated`` pydantic type whose validator says what is wrong
without naming the field (``must be a UUID``, ``is longer than 64
characters``); ``messages.problem_of`` puts the field's full path in front
(``outputs[0].weight_kg must be greater than 0 kg``). Only what the
declaration alone decides is checked here; what depends on the catalogue or
the database (a category's maximum weight, a known organisation) is left to
the handlers.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

from traceability import limits
from traceability.catalog.hw import is_hw_code
from traceability.db import to_utc
from traceability.errors import TraceabilityError
from traceability.labels.ids import normalise_id
from traceability.lots.manifests import normalise_number
from traceability.lots.models import parse_lot_code

EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
CODE_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9_.:/-]{{0,{limits.CODE - 1}}}$"
ORG_CODE_PATTERN = rf"^[A-Z0-9][A-Z0-9_-]{{1,{limits.ORG_CODE - 1}}}$"
_CODE = re.compile(CODE_PATTERN)
_ORG_CODE = re.compile(ORG_CODE_PATTERN)
SOURCES = ("household", "business", "public", "trade_in")


def problem(text: str, *, code: str = "invalid", error: TraceabilityError | None = None) -> Any:
    """Raise a field problem; ``error``: a domain error to report as it is (its own code)."""
    context: dict[str, Any] = {"problem": text}
    if error is not None:
        context["error"] = error
    raise PydanticCustomError(code, "{problem}", context)


# -- identifiers -------------------------------------------------------------


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def canonical_uuid(raw: str) -> str:
    """The canonical spelling of a UUID given in any spelling; ValueError if it is none."""
    if _CANONICAL_UUID.fullmatch(raw):  # the usual case, without building a UUID
        return raw
    return str(uuid.UUID(raw))


def _uuid(raw: Any) -> str:
    if not isinstance(raw, str):
        problem("must be a UUID string")
    try:
        return canonical_uuid(raw)
    except ValueError:
        return problem("must be a UUID")


def _qr_id(raw: Any) -> str:
    if not isinstance(raw, str):
        problem("must be a string")
    try:
        return normalise_id(raw)
    except TraceabilityError as exc:  # InvalidQrId, CheckCharacterMismatch
        return problem(exc.message, code=exc.code, error=exc)


EventId = Annotated[
    str,
    BeforeValidator(_uuid),
    WithJsonSchema({"type": "string", "format": "uuid", "description": "client-generated"}),
]
QrId = Annotated[
    str,
    BeforeValidator(_qr_id),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": 2048,
            "description": "a device ID in any spelling, or its label URL",
        }
    ),
]


# -- text ---------------------------------------------------------------------


def _text(max_len: int, *, required: bool, multiline: bool) -> Any:
    def check(value: Any) -> str | None:
        if value is None:
            return problem("is required") if required else None
        if not isinstance(value, str):
            problem("must be a string")
        issue = limits.text_problem(value, multiline=multiline)
        if issue is not None:
            problem(issue)
        value = value.strip()
        if not value:
            return problem("must not be empty") if required else None
        if len(value) > max_len:
            problem(f"is longer than {max_len} characters")
        return value

    return BeforeValidator(check)


def _matching(pattern: re.Pattern[str], complaint: str, inner: Any) -> Any:
    text = inner.func

    def check(value: Any) -> str | None:
        value = text(value)
        if value is not None and not pattern.match(value):
            problem(complaint)
        return value

    return BeforeValidator(check)


def _schema(max_len: int, pattern: str | None = None) -> WithJsonSchema:
    schema: dict[str, Any] = {"type": "string", "maxLength": max_len}
    if pattern is not None:
        schema["pattern"] = pattern
    return WithJsonSchema(schema)


#: Required trimmed one-line text of at most so many characters.
Area = Annotated[str, _text(limits.AREA, required=True, multiline=False), _schema(limits.AREA)]
Method = Annotated[
    str, _text(limits.METHOD, required=True, multiline=False), _schema(limits.METHOD)
]
#: Why a correction or a refusal was made: may span lines.
Reason = Annotated[str, _text(limits.REASON, required=True, multiline=True), _schema(limits.REASON)]
#: Brand, model, manufacturer serial: optional (absent, null or blank is None).
Nameplate = Annotated[
    str | None, _text(limits.NAMEPLATE, required=False, multiline=False), _schema(limits.NAMEPLATE)
]
#: A nameplate field that must hold something (a correction of it).
RequiredNameplate = Annotated[
    str, _text(limits.NAMEPLATE, required=True, multiline=False), _schema(limits.NAMEPLATE)
]
Category = Annotated[
    str, _text(limits.CATEGORY, required=True, multiline=False), _schema(limits.CATEGORY)
]
Fraction = Annotated[
    str, _text(limits.FRACTION, required=True, multiline=False), _schema(limits.FRACTION)
]

_CODE_COMPLAINT = "may contain letters, digits and _ . : / - only"
#: People's identifiers: batch codes, line names, manifest numbers.
Code = Annotated[
    str,
    _matching(_CODE, _CODE_COMPLAINT, _text(limits.CODE, required=True, multiline=False)),
    _schema(limits.CODE, CODE_PATTERN),
]
OptionalCode = Annotated[
    str | None,
    _matching(_CODE, _CODE_COMPLAINT, _text(limits.CODE, required=False, multiline=False)),
    _schema(limits.CODE, CODE_PATTERN),
]
OrgCode = Annotated[
    str,
    _matching(
        _ORG_CODE,
        "is not an organisation code",
        _text(limits.ORG_CODE, required=True, multiline=False),
    ),
    _schema(limits.ORG_CODE, ORG_CODE_PATTERN),
]
_LOT_TEXT = _matching(
    _CODE, "is not a lot code", _text(limits.LOT_CODE, required=True, multiline=False)
).func


def _lot_code(value: Any) -> str:
    """A lot code in any case, in the canonical one (``lots.models.parse_lot_code``)."""
    text = _LOT_TEXT(value)
    return parse_lot_code(text) or text


#: An output lot's code; case-insensitive: a scanner or phone keyboard may change it.
LotCode = Annotated[str, BeforeValidator(_lot_code), _schema(limits.LOT_CODE, CODE_PATTERN)]


_MANIFEST_TEXT = _text(limits.MANIFEST_NO, required=True, multiline=False).func


def _manifest_number(value: Any) -> str:
    """Normalised (``lots.manifests.normalise_number``); its format is the handler's to check."""
    return normalise_number(_MANIFEST_TEXT(value))


#: A transfer manifest's (or shipping document's) number.
ManifestNumber = Annotated[str, BeforeValidator(_manifest_number), _schema(limits.MANIFEST_NO)]
_HW_TEXT = _text(limits.HW_CODE, required=False, multiline=False).func


def _hw_code(value: Any) -> str | None:
    code = _HW_TEXT(value)
    if code is not None and not is_hw_code(code):
        problem("must be a 国家危险废物名录 waste code like 900-045-49")
    return code


#: A 国家危险废物名录 waste code (``NNN-NNN-CC``), optional.
HwCode = Annotated[
    str | None,
    BeforeValidator(_hw_code),
    WithJsonSchema({"type": "string", "pattern": r"^\d{3}-\d{3}-\d{2}$"}),
]
#: The carrier named on a manifest.
Transporter = Annotated[
    str,
    _text(limits.TRANSPORTER, required=True, multiline=False),
    _schema(limits.TRANSPORTER),
]

_SOURCE_TEXT = _text(limits.SOURCE, required=False, multiline=False).func


def _source(value: Any) -> str | None:
    value = _SOURCE_TEXT(value)
    if value is not None and value not in SOURCES:
        problem(f"must be one of {', '.join(SOURCES)}")
    return value


Source = Annotated[
    str | None, BeforeValidator(_source), WithJsonSchema({"type": "string", "enum": list(SOURCES)})
]


# -- numbers and times --------------------------------------------------------


#: Weights are whole grams; no device or lot weighs more than MAX_KG (a
#: category's maximum and a lot's are checked by the handlers, below this).
MIN_KG = Decimal("0.001")
MAX_KG = Decimal(1_000_000)


def _kilograms(value: Any) -> Decimal:
    """Kilograms > 0 with up to 3 decimals; the upper bound is the category's (handlers)."""
    if value is None:
        problem("is required")
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        problem("must be a number")
    try:
        kg = Decimal(str(value))
    except InvalidOperation:
        return problem("must be a number")
    if not kg.is_finite():
        problem("must be a finite number")
    if kg <= 0:
        problem("must be greater than 0 kg")
    # Compared before any arithmetic: 1E+999999999 overflows the decimal
    # context and 1e-999999999 × 1000 rounds to 0 g.
    if kg < MIN_KG:
        problem("must be at least 0.001 kg (weights must be ≥ 1 g)")
    if kg > MAX_KG:
        problem(f"must be at most {MAX_KG:,} kg")
    if kg * 1000 != (kg * 1000).to_integral_value():
        problem("has more than 3 decimals")
    return kg


Kilograms = Annotated[
    Decimal,
    BeforeValidator(_kilograms),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0.001, "maximum": 1_000_000, "multipleOf": 0.001},
                {"type": "string", "pattern": r"^\d+(\.\d{1,3})?$"},
            ],
            "description": "kilograms, up to 3 decimals",
        }
    ),
]


def _occurred_at(raw: Any, info: ValidationInfo) -> dt.datetime | None:
    """An aware ISO 8601 timestamp, in UTC, since 2000 and not (much) in the future.

    "Now" and the allowed clock skew come from the validation context; without
    them (e.g. documentation examples) the future is not checked.
    """
    if raw is None:
        return None
    if not isinstance(raw, str):
        problem("must be an ISO 8601 string")
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        return problem("is not an ISO 8601 timestamp")
    if value.tzinfo is None:
        problem("needs a UTC offset (e.g. Z or +08:00)")
    try:
        value = to_utc(value)
    except OverflowError:  # e.g. year 1 at +01:00 is before datetime.min in UTC
        return problem("is out of range")
    context = info.context or {}
    now = context.get("now")
    if now is not None and value > now + dt.timedelta(seconds=context.get("future_skew_s", 0)):
        problem("is in the future")
    if value < EARLIEST:
        problem("is before 2000")
    return value


OccurredAt = Annotated[
    dt.datetime | None,
    BeforeValidator(_occurred_at),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": "with a UTC offset; default: when the server receives it",
        }
    ),
]


def _object(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problem("must be an object")
    return dict(value)


#: A JSON object checked later against the catalogue (attributes) or the target (fields).
JsonObject = Annotated[dict[str, Any], BeforeValidator(_object)]
