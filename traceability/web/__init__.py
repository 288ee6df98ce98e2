"""HTML side: security headers, browser sign-in and languages, the public device page /d/{ID}."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response

from traceability.app import register_service, trace_of
from traceability.web import auth, i18n, pin, public, scanner, times
from traceability.web.portal import bp as portal_bp

#: Every page: no plugins, no framing, no <base> rewriting where relative URLs
#: go, and forms post to this site only. (The scanner's own policy adds to it.)
CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
#: Browsers that have seen the https site once never try it over http (a year).
HSTS = "max-age=31536000"


def _security_headers(*, https: bool) -> Callable[[Response], Response]:
    def add(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CSP)
        if https:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    return add


def init_app(app: Flask) -> None:
    settings = trace_of(app).settings
    https = settings.public_url.startswith("https://")
    app.after_request(_security_headers(https=https))
    register_service(app, public.PublicCache(settings.badge_cache_s))
    i18n.init_app(app)
    auth.init_app(app)
    times.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(scanner.bp)
    app.register_blueprint(pin.bp)
    app.register_blueprint(portal_bp)
