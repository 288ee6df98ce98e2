"""RPC URLs as they may be shown: without the credentials and keys they can carry (SPEC §3).

A provider's URL holds its secret as ``user:password@``, as a path segment
(``…/v3/KEY``) or in the query (``?apikey=…``). Whatever shows a URL or an
error message that may contain one (verification problems, /health, the
CLI, logs) passes it through here first.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

HIDDEN = "***"
# Path segments this long are taken for keys (Infura, Alchemy: 32 characters).
_KEY_LENGTH = 20
_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)


def redact_url(url: str | None) -> str | None:
    """An RPC URL without credentials (user:password@), long path segments or query string."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(unparseable URL)"
    host = parts.hostname or ""
    if port:
        host = f"{host}:{port}"
    if parts.username or parts.password:
        host = f"{HIDDEN}@{host}"
    path = "/".join(HIDDEN if len(seg) >= _KEY_LENGTH else seg for seg in parts.path.split("/"))
    return urlunsplit((parts.scheme, host, path, HIDDEN if parts.query else "", ""))


def secrets_of(url: str) -> list[str]:
    """The parts of ``url`` that redact_url hides, as they may appear on their own in a text."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    found = [parts.username or "", parts.password or "", parts.query]
    found += [seg for seg in parts.path.split("/") if len(seg) >= _KEY_LENGTH]
    found += [unquote(s) for s in found]
    # Longest first, so that no shorter secret leaves part of a longer one behind.
    return sorted({s for s in found if len(s) >= 3}, key=len, reverse=True)


def redact_text(text: str, url: str | None = None) -> str:
    """``text`` (an error message) with ``url``, its secrets and any other URL in it redacted.

    HTTP libraries quote the path alone ("Max retries exceeded with url:
    /v3/KEY"), so the secrets of ``url`` go wherever they appear.
    """
    if url:
        text = text.replace(url, str(redact_url(url)))
        for secret in secrets_of(url):
            text = text.replace(secret, HIDDEN)
    return _URL.sub(lambda m: str(redact_url(m.group(0))), text)
