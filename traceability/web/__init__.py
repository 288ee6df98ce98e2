"""HTML side: security headers, browser sign-in and languages, the public device page /d/{ID}."""

from __future__ import annotations

from flask import Flask, Response

from traceability.web import auth, i18n, public, scanner
from traceability.web.portal import bp as portal_bp


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'",
    )
    return response


def init_app(app: Flask) -> None:
    app.after_request(_security_headers)
    app.extensions["trace.public_views"] = public.PublicCache(
        app.config["TRACE_SETTINGS"].badge_cache_s
    )
    i18n.init_app(app)
    auth.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(scanner.bp)
    app.register_blueprint(portal_bp)
