"""Whatever a client sends, the answer is never a 5xx (SPEC §6)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.accounts import Actor
from tests.support.floor import Handheld
from traceability.custody.models import EventType

FIELDS = (
    "id",
    "type",
    "qr_id",
    "lot",
    "occurred_at",
    "weight_kg",
    "to",
    "manifest_no",
    "area",
    "batch",
    "line",
    "outputs",
    "corrects",
    "reason",
    "fields",
    "method",
    "category",
    "attributes",
    "brand",
    "serial",
    "source",
)
TYPES = tuple(t.value for t in EventType)

# Full Unicode, including lone surrogates a JSON \\uD800 escape produces.
anything = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(alphabet=st.characters(blacklist_categories=())),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
# Timestamps anywhere in datetime's range, at any fixed offset.
timestamps = st.datetimes(
    timezones=st.builds(
        dt.timezone,
        st.timedeltas(min_value=dt.timedelta(hours=-23), max_value=dt.timedelta(hours=23)),
    )
).map(dt.datetime.isoformat)
items = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES) | anything},
    optional={
        **{name: anything for name in FIELDS if name != "type"},
        "occurred_at": timestamps | anything,
    },
)
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _post(client: FlaskClient, path: str, body: Any, actor: Actor) -> int:
    raw = json.dumps(body, ensure_ascii=True)  # escapes lone surrogates as \\udxxx
    response = client.post(
        path, data=raw, headers={**actor.headers, "Content-Type": "application/json"}
    )
    return response.status_code


@FUZZ
@given(batch=st.lists(items, min_size=1, max_size=4))
def test_events_never_answer_5xx(client: FlaskClient, plant: Actor, batch: list) -> None:
    assert _post(client, "/api/v1/events", {"events": batch}, plant) < 500


@FUZZ
@given(item=items)
def test_events_on_a_real_device_never_answer_5xx(
    client: FlaskClient, collector: Actor, plant: Actor, item: dict
) -> None:
    qr_id = Handheld(client, collector).collect()
    assert _post(client, "/api/v1/events", {"events": [{**item, "qr_id": qr_id}]}, collector) < 500


@FUZZ
@given(body=st.dictionaries(st.sampled_from(FIELDS), anything, max_size=6))
def test_collecting_never_answers_5xx(client: FlaskClient, collector: Actor, body: dict) -> None:
    assert _post(client, "/api/v1/devices", body, collector) < 500


@FUZZ
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_never_answer_5xx(client: FlaskClient, plant: Actor, raw: bytes) -> None:
    response = client.post(
        "/api/v1/events", data=raw, headers={**plant.headers, "Content-Type": "application/json"}
    )
    assert response.status_code < 500


def test_a_lone_surrogate_in_hashed_text_is_a_clear_422(
    client: FlaskClient, collector: Actor
) -> None:
    body = {"category": "monitor", "brand": "\ud800bad"}
    raw = json.dumps(body)  # "\ud800" escape: valid JSON, not valid Unicode text
    response = client.post(
        "/api/v1/devices",
        data=raw,
        headers={**collector.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "brand"


@FUZZ
@given(
    segment=st.text(min_size=1, max_size=40).filter(lambda s: "/" not in s and s != ".."),
    query=st.text(max_size=20),
)
def test_reading_any_path_never_answers_5xx(
    client: FlaskClient, plant: Actor, segment: str, query: str
) -> None:
    from urllib.parse import quote

    seg = quote(segment, safe="")
    for path in (
        f"/api/v1/devices/{seg}",
        f"/api/v1/devices/{seg}/verify",
        f"/api/v1/devices/{seg}/proof",
        f"/api/v1/devices/{seg}/label.svg",
        f"/api/v1/batches/{seg}?org={quote(query)}&factors={quote(query)}",
        f"/api/v1/labels/{seg}.pdf?layout={quote(query)}",
        f"/d/{seg}",
    ):
        assert client.get(path, headers=plant.headers).status_code < 500, path
