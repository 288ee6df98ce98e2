"""Where a browser may be sent back to after signing in or switching language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 or c == "\\" for c in target):
        return None
    return target


def this_path() -> str:
    """The current request's path and query, as a ``next`` target."""
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")
