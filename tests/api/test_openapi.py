"""The OpenAPI document describes exactly the routes the app serves under /api/v1."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

IGNORED_METHODS = {"HEAD", "OPTIONS"}
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


def served_operations(app: Flask) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        # Flask's <name> and <converter:name> become OpenAPI's {name}.
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        operations |= {(path, m.lower()) for m in set(rule.methods or ()) - IGNORED_METHODS}
    return operations


def test_the_document_lists_exactly_the_served_routes_and_methods(
    app: Flask, client: FlaskClient
) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()

    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }

    served = served_operations(app)
    assert served, "no routes under /api/v1"
    assert documented - served == set(), "documented but not served"
    assert served - documented == set(), "served but not documented"


def test_path_parameters_are_declared(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    for path, item in document["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, (path, method)
