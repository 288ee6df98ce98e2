"""The EPCIS query interface as GS1 specifies it: perPage/nextPageToken with a Link header,
time windows on eventTime and recordTime, EQ_bizStep, EQ_bizLocation, MATCH_*EPC."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft7Validator

from tests.epcis.documents import URL, errors, event_list, export
from tests.support.accounts import Actor, add_actor, manager_headers
from tests.support.floor import Handheld, receive

SITE = "https://trace.example.cn"


def pages(
    client: FlaskClient, headers: dict[str, str], query: str, validator: Draft7Validator
) -> list[dict[str, Any]]:
    """Every page of a query, following each answer's Link header to the next."""
    url: str | None = f"{URL}?{query}"
    documents = []
    while url is not None:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_json()
        assert errors(validator, response.get_json()) == []
        documents.append(response.get_json())
        link = response.headers.get("Link")
        if link is None:
            url = None
        else:
            match = re.fullmatch(r'<([^>]+)>; rel="next"', link)
            assert match, link
            parts = urlsplit(match.group(1))
            assert f"{parts.scheme}://{parts.netloc}" == SITE and parts.path == URL
            url = f"{parts.path}?{parts.query}"
        assert len(documents) < 50
    return documents


def ids(documents: list[dict[str, Any]]) -> list[str]:
    return [e["eventID"] for d in documents for e in event_list(d)]


def test_pages_follow_the_link_header_and_see_every_event_once(
    client: FlaskClient, collector: Actor, plant: Actor, validator: Draft7Validator
) -> None:
    for _ in range(3):
        receive(client, collector, plant)
    headers = manager_headers(client, plant)
    everything = ids([export(client, headers)])
    assert len(everything) == 3
    walked = pages(client, headers, "perPage=2", validator)
    assert [len(event_list(d)) for d in walked] == [2, 1]
    assert ids(walked) == everything
    # an event recorded while paging shows on a later page, none is seen twice
    first = client.get(f"{URL}?perPage=2", headers=headers)
    receive(client, collector, plant)
    link = first.headers["Link"]
    rest = client.get(link[link.index(URL) : link.index(">")], headers=headers)
    assert ids([first.get_json(), rest.get_json()]) == ids([export(client, headers)])
    assert "trace:page" not in first.get_json() and "trace:total" not in first.get_json()


def test_event_and_record_time_windows(
    client: FlaskClient, collector: Actor, plant: Actor, validator: Draft7Validator
) -> None:
    for _ in range(3):
        receive(client, collector, plant)
    headers = manager_headers(client, plant)
    listed = event_list(export(client, headers))
    for field in ("eventTime", "recordTime"):
        middle = sorted(e[field] for e in listed)[1]
        later = ids(pages(client, headers, f"GE_{field}={quote(middle)}", validator))
        earlier = ids(pages(client, headers, f"LT_{field}={quote(middle)}", validator))
        assert sorted(later + earlier) == sorted(e["eventID"] for e in listed)
        assert len(later) == 2 and len(earlier) == 1


def test_one_devices_whole_history_across_organisations(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, validator: Draft7Validator
) -> None:
    qr_id = receive(client, collector, plant)
    Handheld(client, plant).dismantle(qr_id, {"pcb": "1.5", "plastics": "3"})
    receive(client, collector, plant)  # another device
    auditor = add_actor(app, "REG-JS", "regulator", "auditor", "320000").headers
    device = quote(f"{SITE}/d/{qr_id}", safe="")

    history = [e for d in pages(client, auditor, f"MATCH_anyEPC={device}", validator)
               for e in event_list(d)]  # fmt: skip
    assert [e["bizStep"] for e in history] == [
        "commissioning", "shipping", "receiving", "disassembling",
    ]  # fmt: skip
    observed = pages(client, auditor, f"MATCH_epc={device}", validator)
    assert [e["bizStep"] for e in event_list(observed[0])] == [
        "commissioning", "shipping", "receiving",
    ]  # fmt: skip
    dismantled = pages(client, auditor, f"MATCH_inputEPC={device}", validator)
    assert [e["type"] for e in event_list(dismantled[0])] == ["TransformationEvent"]
    # the plant's manager sees the plant's part of it only
    at_plant = pages(client, manager_headers(client, plant), f"MATCH_anyEPC={device}", validator)
    assert [e["bizStep"] for e in event_list(at_plant[0])] == ["receiving", "disassembling"]
    elsewhere = quote("https://elsewhere.example.com/d/" + qr_id, safe="")
    assert ids(pages(client, auditor, f"MATCH_anyEPC={elsewhere}", validator)) == []


def test_biz_location_and_several_biz_steps(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, validator: Draft7Validator
) -> None:
    receive(client, collector, plant)
    auditor = add_actor(app, "REG-JS", "regulator", "auditor", "320000").headers
    at_plant = pages(client, auditor, f"EQ_bizLocation={quote(f'{SITE}/orgs/{plant.org}')}",
                     validator)  # fmt: skip
    assert [e["bizLocation"]["id"] for e in event_list(at_plant[0])] == [f"{SITE}/orgs/{plant.org}"]
    both = pages(client, auditor, "EQ_bizStep=shipping|commissioning", validator)
    assert sorted(e["bizStep"] for e in event_list(both[0])) == ["commissioning", "shipping"]
    repeated = pages(
        client, auditor, "EQ_bizStep=shipping&EQ_bizStep=https://ref.gs1.org/cbv/BizStep-receiving",
        validator,
    )  # fmt: skip
    assert sorted(e["bizStep"] for e in event_list(repeated[0])) == ["receiving", "shipping"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("GE_eventTime=yesterday", "GE_eventTime"),
        ("LT_eventTime=2026-07-01T00:00:00", "LT_eventTime"),
        ("GE_recordTime=2026-13-01T00:00:00Z", "GE_recordTime"),
        ("LT_recordTime=1", "LT_recordTime"),
        ("GE_eventTime=2026-07-01T00:00:00Z&GE_eventTime=2026-08-01T00:00:00Z", "GE_eventTime"),
        ("EQ_bizStep=dancing", "EQ_bizStep"),
        ("EQ_bizLocation=DIS-SZ", "EQ_bizLocation"),
        ("MATCH_epc=not%20a%20uri", "MATCH_epc"),
        ("MATCH_anyEPC=" + "|".join(["urn:x:1"] * 101), "MATCH_anyEPC"),
        ("perPage=0", "perPage"),
        ("perPage=501", "perPage"),
        ("perPage=%C2%B2", "perPage"),
        ("nextPageToken=abc", "nextPageToken"),
        ("nextPageToken=s1.LTE", "nextPageToken"),
        ("page=2", "page"),
        ("per_page=10", "per_page"),
        ("EQ_disposition=active", "EQ_disposition"),
    ],
)
def test_bad_query_parameters_are_a_422_naming_them(
    client: FlaskClient, plant: Actor, query: str, field: str
) -> None:
    response = client.get(f"{URL}?{query}", headers=manager_headers(client, plant))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["error"]["field"] == field
