"""Every error the API returns is JSON: {"error": {"code", "message", "field"?}}."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from ledger.errors import LedgerError
from traceability.api.schemas import ErrorBody, ErrorResponse
from traceability.db import is_busy
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


#: What a client is told to wait before retrying a write the database was too busy for.
BUSY_RETRY_AFTER_S = 5
BUSY_PAGE = (
    "数据库繁忙，未记录任何内容，请稍后重试。The database is busy; nothing was recorded: retry."
)


def _database(exc: OperationalError) -> Response:
    # A lock waited out, or the database unreachable: the server's problem, never the
    # client's input. The transaction was rolled back, so a retry records it once.
    busy = is_busy(exc)
    if not request.path.startswith(API_PREFIX):  # a page: the same, in both languages
        text = BUSY_PAGE if busy else "数据库不可用。The database is unavailable."
        response = Response(text, 503)
    elif busy:
        message = "the database is busy with other writes; nothing was recorded: retry"
        response = error_response(503, "database_busy", message)
    else:
        response = error_response(503, "database_unavailable", "the database is unavailable")
    response.headers["Retry-After"] = str(BUSY_RETRY_AFTER_S)
    return response


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
    app.register_error_handler(OperationalError, _database)
