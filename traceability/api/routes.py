"""The route registry: each route of /api/v1 declared once, with its messages.

The Flask rules and the OpenAPI document (``openapi.document``) are both
built from the same ``Route`` values, so they cannot disagree: a view
returns a response model (or, as Flask reads tuples, ``(model, status)``,
``(model, headers)`` or ``(model, status, headers)``) and ``register``
refuses to send any model but the one declared for its route. A route with
a request model hands its view the body parsed into it (``body=``), a bad
one being a 4xx naming the field; only a batch read item by item
(``reads_body``) parses its own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, jsonify
from pydantic import BaseModel, ValidationError

from traceability.api.auth import require
from traceability.api.body import json_body
from traceability.custody.messages import problem_of


@dataclass(frozen=True)
class Route:
    """One operation: ``rule`` is Flask's, under the blueprint's /api/v1 prefix."""

    method: str
    rule: str
    endpoint: str
    view: Callable[..., Any]
    summary: str
    #: The success body's model; None for a binary body of type ``media``.
    response: type[BaseModel] | None
    status: int = 200
    request: type[BaseModel] | None = None
    #: Who may call it; None: anyone, without a token.
    roles: tuple[str, ...] | None = None
    media: str = "application/json"
    #: Other statuses a success may take, with the same body (a replayed id, a degraded service).
    also: tuple[int, ...] = ()
    #: Query parameters: name → what it does.
    query: Mapping[str, str] = field(default_factory=dict)
    #: The view reads the body itself, item by item, so one bad item fails only
    #: itself; otherwise it is given the body parsed into ``request`` as ``body``.
    reads_body: bool = False


def _serialising(route: Route) -> Callable[..., Any]:
    view = route.view

    @functools.wraps(view)
    def serialise(**kwargs: Any) -> Any:
        if route.request is not None and not route.reads_body:
            kwargs["body"] = _parsed(route.request)
        result = view(**kwargs)
        body, status, headers = _parts(result, route.status)
        if not isinstance(body, BaseModel):
            return result  # a Response the view made itself (binary bodies)
        if route.response is None or not isinstance(body, route.response):
            raise TypeError(f"{route.endpoint} returned a {type(body).__name__}")
        if status not in (route.status, *route.also):
            raise TypeError(f"{route.endpoint} answered {status}, not a declared status")
        response = jsonify(_dump(body))  # through the app's JSON provider
        response.status_code = status
        response.headers.update(headers)
        return response

    return serialise


def _parsed(model: type[BaseModel]) -> BaseModel:
    """The request's JSON body as ``model``; the first problem is a 4xx naming its field."""
    try:
        return model.model_validate(json_body())
    except ValidationError as exc:
        raise problem_of(exc) from None


def _parts(result: Any, status: int) -> tuple[Any, int, dict[str, str]]:
    """Body, status and headers of what a view returned, as Flask reads a tuple."""
    if not isinstance(result, tuple):
        return result, status, {}
    body, *rest = result
    headers: dict[str, str] = {}
    for part in rest:
        if isinstance(part, int):
            status = part
        else:
            headers = dict(part)
    return body, status, headers


def _dump(model: BaseModel) -> dict[str, Any]:
    """Decimals stay ``Decimal`` here: the app's JSON provider writes them as numbers."""
    return model.model_dump(exclude_unset=True)


def register(bp: Blueprint, routes: Sequence[Route]) -> None:
    for route in routes:
        view = _serialising(route)
        if route.roles is not None:
            view = require(*route.roles)(view)
        bp.add_url_rule(route.rule, route.endpoint, view, methods=[route.method])
