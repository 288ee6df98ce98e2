"""The OpenAPI 3.1 document of /api/v1, generated from the route registry and its models."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from traceability.api.routes import Route
from traceability.api.schemas import ErrorResponse, OpenApiDocument
from traceability.app import current_service

REF_TEMPLATE = "#/components/schemas/{model}"
_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")

Mode = Literal["validation", "serialization"]
#: Each (model, mode) → its schema in the document: a $ref into components.
Refs = dict[tuple[Any, Mode], Any]


def path_of(route: Route) -> str:
    """The document's path for a Flask rule: ``/devices/<qr_id>`` → ``/api/v1/devices/{qr_id}``."""
    return "/api/v1" + _PARAM.sub(r"{\1}", route.rule)


def _schemas(routes: Sequence[Route]) -> tuple[Refs, dict[str, Any]]:
    wanted: list[tuple[type[BaseModel], Mode]] = [(ErrorResponse, "serialization")]
    for route in routes:
        if route.request is not None:
            wanted.append((route.request, "validation"))
        if route.response is not None:
            wanted.append((route.response, "serialization"))
    refs, top = models_json_schema(list(dict.fromkeys(wanted)), ref_template=REF_TEMPLATE)
    return refs, top.get("$defs", {})


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _operation(route: Route, refs: Refs) -> dict[str, Any]:
    if route.response is not None:
        content = _json(refs[(route.response, "serialization")])
    else:
        content = {route.media: {}}  # a binary body: OpenAPI 3.1 gives it no schema
    error = _json(refs[(ErrorResponse, "serialization")])
    responses: dict[str, Any] = {
        str(status): {"description": "success", "content": content}
        for status in (route.status, *route.also)
    }
    responses["4XX"] = {
        "description": "refused: bad input, no access, no such thing",
        "content": error,
    }
    responses.setdefault("503", {"description": "the ledger cannot be reached", "content": error})
    operation: dict[str, Any] = {
        "operationId": route.endpoint,
        "summary": route.summary,
        "responses": responses,
    }
    if route.roles is None:
        operation["security"] = []
    else:
        operation["x-roles"] = list(route.roles)
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(route.rule)
    ]
    parameters += [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": what,
            "schema": {"type": "string"},
        }
        for name, what in route.query.items()
    ]
    if parameters:
        operation["parameters"] = parameters
    if route.request is not None:
        operation["requestBody"] = {
            "required": True,
            "content": _json(refs[(route.request, "validation")]),
        }
    return operation


def document(routes: Sequence[Route]) -> dict[str, Any]:
    refs, schemas = _schemas(routes)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(path_of(route), {})[route.method.lower()] = _operation(route, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "WEEE traceability API", "version": "1"},
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "paths": paths,
    }


def openapi() -> OpenApiDocument:
    """This document, built once per app (``traceability.api.init_app``)."""
    return current_service(OpenApiDocument)
