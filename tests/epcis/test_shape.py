"""The shape of a captured document, checked before any event is mapped: what GS1's schema
refuses is refused here too, naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft7Validator

from tests.epcis.documents import errors
from traceability.epcis.shape import TooManyEvents, events_of
from traceability.errors import ValidationFailed

GS1 = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
EVENT: dict[str, Any] = {
    "type": "ObjectEvent", "eventTime": "2026-07-01T08:00:00+08:00",
    "eventTimeZoneOffset": "+08:00", "epcList": ["https://x.cn/d/1"], "action": "OBSERVE",
    "readPoint": {"id": "https://x.cn/o/1"},
}  # fmt: skip


def doc(**event: Any) -> dict[str, Any]:
    return {"@context": [GS1, {"x": "https://x.cn/ns#"}], "type": "EPCISDocument",
            "schemaVersion": "2.0", "epcisBody": {"eventList": [{**EVENT, **event}]}}  # fmt: skip


def test_a_query_document_is_read_as_another_repository_answers() -> None:
    query = {
        "@context": GS1, "type": "EPCISQueryDocument", "schemaVersion": "2.0",
        "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery",
                                       "resultsBody": {"eventList": [EVENT]}}},
    }  # fmt: skip
    assert events_of(query, 10) == ([EVENT], {})
    assert events_of(doc(), 10)[1] == {"x": "https://x.cn/ns#"}


P = "epcisBody.eventList[0]"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"type": "Event"}, f"{P}.type"),
        ({"recordTime": "now"}, f"{P}.recordTime"),
        ({"eventTimeZoneOffset": "+8"}, f"{P}.eventTimeZoneOffset"),
        ({"eventID": "not a uri"}, f"{P}.eventID"),
        ({"bizStep": 7}, f"{P}.bizStep"),
        ({"readPoint": "https://x.cn/o/1"}, f"{P}.readPoint"),
        ({"bizLocation": {"id": 1}}, f"{P}.bizLocation.id"),
        ({"epcList": ["https://x.cn/d/1", "no uri"]}, f"{P}.epcList[1]"),
        ({"quantityList": [{"epcClass": "https://x.cn/c", "quantity": "1"}]},
         f"{P}.quantityList[0].quantity"),
        ({"quantityList": ["https://x.cn/c"]}, f"{P}.quantityList[0]"),
        ({"sourceList": [{"type": "location"}]}, f"{P}.sourceList[0].source"),
        ({"sourceList": [{"type": 1, "source": "https://x.cn/o/2"}]}, f"{P}.sourceList[0].type"),
    ],
)  # fmt: skip
def test_an_event_gs1s_schema_refuses_is_refused_naming_the_field(
    event: dict[str, Any], field: str, validator: Draft7Validator
) -> None:
    document = doc(**event)
    assert errors(validator, document) != []
    with pytest.raises(ValidationFailed) as raised:
        events_of(document, 10)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ([], "body"),
        ({**doc(), "schemaVersion": "1.2"}, "schemaVersion"),
        ({**doc(), "epcisBody": []}, "epcisBody.eventList"),
        ({**doc(), "type": "EPCISQueryDocument"}, "epcisBody.queryResults.resultsBody.eventList"),
        ({**doc(), "epcisBody": {"eventList": ["event"]}}, "epcisBody.eventList[0]"),
    ],
)
def test_a_document_that_is_not_epcis_is_refused(document: Any, field: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        events_of(document, 10)
    assert raised.value.field == field


def test_at_most_so_many_events() -> None:
    document = doc()
    document["epcisBody"]["eventList"] *= 11
    with pytest.raises(TooManyEvents):
        events_of(document, 10)
