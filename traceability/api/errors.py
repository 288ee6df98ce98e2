"""Every error the API returns is JSON: {"error": {"code", "message", "field"?}}."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from ledger.errors import LedgerError
from traceability.api.schemas import ErrorBody, ErrorResponse
from traceability.errors import TraceabilityError

API_PREFIX = "/api/"


def error_response(status: int, code: str, message: str, field: str | None = None) -> Response:
    error = ErrorBody(code=code, message=message, **({"field": field} if field else {}))
    response = jsonify(ErrorResponse(error=error).model_dump(exclude_unset=True))
    response.status_code = status
    return response


def _domain(exc: TraceabilityError) -> Response:
    response = error_response(exc.status, exc.code, exc.message, exc.field)
    if "retry_after" in exc.data:  # e.g. an audit still being computed
        response.headers["Retry-After"] = str(exc.data["retry_after"])
    return response


def _ledger(exc: LedgerError) -> Response:
    # The ledger being down is the server's problem, never the client's input.
    return error_response(503, exc.code, f"ledger: {exc}")


def _http(exc: HTTPException) -> Response | HTTPException:
    if not request.path.startswith(API_PREFIX):
        return exc
    code = {
        400: "bad_request",
        401: "unauthorised",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "body_too_large",
        415: "unsupported_media_type",
    }.get(exc.code or 500, "http_error")
    field = "body" if exc.code == 413 else None
    return error_response(exc.code or 500, code, exc.description or code, field)


def register(app: Flask, bp: Blueprint) -> None:
    app.register_error_handler(TraceabilityError, _domain)
    app.register_error_handler(LedgerError, _ledger)
    app.register_error_handler(HTTPException, _http)
