"""The OpenAPI document and the route registry's models cannot disagree.

Every operation's request and response schemas are its models' JSON schemas,
every route Flask serves under /api/v1 is a registered route (and the
document's), and a view cannot send a model its route does not declare.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, Flask
from jsonschema import Draft202012Validator
from pydantic import BaseModel

from traceability import limits
from traceability.api import ROUTES
from traceability.api.openapi import REF_TEMPLATE, Mode, document, path_of
from traceability.api.routes import Route, register
from traceability.api.schemas import ErrorResponse
from traceability.labels.services import MAX_SHEET

DOCUMENT = document(ROUTES)
COMPONENTS = DOCUMENT["components"]["schemas"]
IDS = [r.endpoint for r in ROUTES]


def inline(schema: Any, defs: dict[str, Any]) -> Any:
    """``schema`` with every ``$ref`` replaced by what it names (no model here is recursive)."""
    if isinstance(schema, list):
        return [inline(item, defs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        named = defs[schema["$ref"].rsplit("/", 1)[-1]]
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        return inline({**named, **siblings}, defs)
    return {k: inline(v, defs) for k, v in schema.items() if k != "$defs"}


def model_schema(model: type[BaseModel], mode: Mode) -> Any:
    schema = model.model_json_schema(mode=mode, ref_template=REF_TEMPLATE)
    return inline(schema, schema.get("$defs", {}))


def documented(route: Route) -> dict[str, Any]:
    return DOCUMENT["paths"][path_of(route)][route.method.lower()]


def json_schema(content: dict[str, Any]) -> Any:
    return inline(content["application/json"]["schema"], COMPONENTS)


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_the_request_body_is_the_request_models_schema(route: Route) -> None:
    operation = documented(route)

    if route.request is None:
        assert "requestBody" not in operation
    else:
        body = operation["requestBody"]
        assert body["required"] is True
        assert json_schema(body["content"]) == model_schema(route.request, "validation")


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_each_success_status_has_the_response_models_schema(route: Route) -> None:
    responses = documented(route)["responses"]

    successes = {str(s) for s in (route.status, *route.also)}
    assert successes <= set(responses)
    for status in successes:
        content = responses[status]["content"]
        if route.response is None:
            assert content == {route.media: {}}, "a binary body is described by its media type"
        else:
            assert json_schema(content) == model_schema(route.response, "serialization")


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_every_error_is_the_error_model(route: Route) -> None:
    responses = documented(route)["responses"]

    errors = set(responses) - {str(s) for s in (route.status, *route.also)}
    assert {"4XX", "503"} <= errors or (route.also == (503,) and "4XX" in errors)
    for status in errors:
        assert json_schema(responses[status]["content"]) == model_schema(
            ErrorResponse, "serialization"
        )


def test_flask_serves_exactly_the_registered_routes(app: Flask) -> None:
    served = {
        rule.endpoint: (rule.rule, set(rule.methods or ()) - {"HEAD", "OPTIONS"})
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
    }

    assert served == {f"api.{r.endpoint}": ("/api/v1" + r.rule, {r.method}) for r in ROUTES}


def test_the_document_has_one_operation_per_route_named_by_its_endpoint() -> None:
    operations = [
        (path, method, operation["operationId"])
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
    ]

    assert sorted(operations) == sorted((path_of(r), r.method.lower(), r.endpoint) for r in ROUTES)


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_who_may_call_is_what_the_view_enforces(app: Flask, route: Route) -> None:
    operation = documented(route)
    enforced = getattr(app.view_functions[f"api.{route.endpoint}"], "required_roles", None)

    assert enforced == route.roles
    if route.roles is None:
        assert operation["security"] == []
    else:
        assert "security" not in operation  # the document's default: a bearer token
        assert operation["x-roles"] == list(route.roles)
    assert DOCUMENT["security"] == [{"bearer": []}]
    assert DOCUMENT["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
    }


def test_every_component_is_a_valid_json_schema() -> None:
    for schema in COMPONENTS.values():
        Draft202012Validator.check_schema(schema)


_NAMING = {"properties", "$defs", "patternProperties"}  # their keys are names, not keywords


def keywords(schema: Any, *, names: bool = False) -> set[str]:
    if isinstance(schema, list):
        return set().union(*(keywords(item) for item in schema))
    if not isinstance(schema, dict):
        return set()
    own = set() if names else set(schema)
    return own.union(*(keywords(v, names=k in _NAMING) for k, v in schema.items()))


def test_no_constraint_is_left_in_pydantics_own_words() -> None:
    """A constraint pydantic cannot translate (``ge`` after a validator) is no constraint."""
    pydantic_words = {"ge", "gt", "le", "lt", "min_length", "max_length"}

    assert keywords({"properties": {"le": {"le": 1}}}) & pydantic_words == {"le"}
    assert keywords(COMPONENTS, names=True) & pydantic_words == set()


def test_the_field_limits_reach_the_document() -> None:
    collect = inline(COMPONENTS["CollectRequest"], COMPONENTS)["properties"]
    labels = inline(COMPONENTS["LabelsRequest"], COMPONENTS)["properties"]
    detail = inline(COMPONENTS["DeviceDetail"], COMPONENTS)["properties"]

    assert collect["brand"]["maxLength"] == limits.NAMEPLATE
    assert collect["category"]["maxLength"] == limits.CATEGORY
    assert (labels["count"]["minimum"], labels["count"]["maximum"]) == (1, MAX_SHEET)
    assert detail["qr_id"]["maxLength"] == limits.QR_ID
    assert detail["events"]["items"]["properties"]["id"]["maxLength"] == limits.EVENT_ID


def test_weights_and_savings_are_documented_as_numbers() -> None:
    batch = inline(COMPONENTS["BatchReport"], COMPONENTS)["properties"]

    assert batch["mass_kg"] == {"type": "number", "title": "Mass Kg"}
    assert batch["savings"]["properties"]["co2_t"]["type"] == "number"


# -- the registry refuses what it did not declare ------------------------------------


class Declared(BaseModel):
    ok: bool


class Other(BaseModel):
    ok: bool


def _app_with(route: Route) -> Flask:
    app = Flask(__name__)
    app.testing = True  # the view's exception reaches the test
    bp = Blueprint("t", __name__)
    register(bp, [route])
    app.register_blueprint(bp)
    return app


def test_a_view_sending_a_model_its_route_does_not_declare_fails() -> None:
    app = _app_with(Route("GET", "/x", "x", lambda: Other(ok=True), "x", response=Declared))

    with pytest.raises(TypeError, match="returned a Other"):
        app.test_client().get("/x")


def test_a_view_answering_an_undeclared_status_fails() -> None:
    app = _app_with(Route("GET", "/x", "x", lambda: (Declared(ok=True), 202), "x", Declared))

    with pytest.raises(TypeError, match="not a declared status"):
        app.test_client().get("/x")


def test_a_declared_model_is_sent_with_its_status_and_headers() -> None:
    def view() -> tuple[Declared, int, dict[str, str]]:
        return Declared(ok=True), 201, {"X-Kind": "declared"}

    app = _app_with(Route("POST", "/x", "x", view, "x", Declared, status=201))

    response = app.test_client().post("/x")

    assert (response.status_code, response.get_json()) == (201, {"ok": True})
    assert response.headers["X-Kind"] == "declared"
