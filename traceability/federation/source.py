"""The plant's deployment as the regulator's import reads it: over HTTP, with a token.

Only the plant's public API is read (``/api/v1/ledger``, the EPCIS query,
``/api/v1/ledger/batches/{root}``), never its database. Whatever goes wrong
on the way — an unreachable URL, a token the plant refuses, an answer that is
not the API's — is an ``ImportFailed`` naming it, for the command line to say
in one line.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from ledger.redact import redact_url
from traceability.errors import TraceabilityError

#: Events asked for per page of the EPCIS query (the plant's maximum).
PER_PAGE = 500
#: Seconds a request may take before the plant counts as unreachable.
TIMEOUT_S = 60.0


class ImportFailed(TraceabilityError):
    """The import could not be done at all (nothing about any one record)."""

    code = "import_failed"


def checked_url(url: str) -> str:
    """The plant's base URL (http or https, a host); an ImportFailed naming ``--from`` if not."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImportFailed(
            f"--from must be the plant's http(s) URL, like https://plant.example.cn "
            f"(got {url[:80]!r})",
            field="from",
        )
    return url.strip().rstrip("/")


@dataclass
class PlantSource:
    """One plant's API: ``url`` its public base URL, ``token`` a reader's API token there."""

    url: str
    token: str
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    def __post_init__(self) -> None:
        self.url = checked_url(self.url)
        if not self.token.strip():
            raise ImportFailed("--token is empty: give an API token of the plant", field="token")
        self.session.headers["Authorization"] = f"Bearer {self.token.strip()}"

    def close(self) -> None:
        self.session.close()

    def _get(self, url: str, session: requests.Session | None = None) -> requests.Response:
        where = redact_url(url)
        try:
            response = (session or self.session).get(url, timeout=TIMEOUT_S)
        except requests.RequestException as exc:
            raise ImportFailed(f"cannot reach the plant at {where}: {_reason(exc)}") from None
        if response.status_code == 401:
            raise ImportFailed(
                f"the plant at {redact_url(self.url)} refused the token (401): give a valid API "
                "token of a reader there (`traceability tokens create USER` on the plant)",
                field="token",
            )
        if response.status_code == 403:
            raise ImportFailed(
                f"the plant's token may not read {where} (403): {_message(response)}",
                field="token",
            )
        return response

    def _json(self, url: str, *, missing_ok: bool = False) -> dict[str, Any] | None:
        return self._answer(url, missing_ok=missing_ok)[0]

    def _answer(
        self, url: str, *, missing_ok: bool = False, session: requests.Session | None = None
    ) -> tuple[dict[str, Any] | None, str | None]:
        """The JSON body (None: 404 and ``missing_ok``) and the next page's URL, if any."""
        response = self._get(url, session)
        if missing_ok and response.status_code == 404:
            return None, None
        if response.status_code != 200:
            raise ImportFailed(
                f"the plant answered {response.status_code} to {redact_url(url)}: "
                f"{_message(response)}"
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ImportFailed(
                f"{redact_url(url)} did not answer JSON: is {redact_url(self.url)} a "
                "traceability deployment?"
            )
        return body, self._next(response.headers.get("Link"))

    def _next(self, link: str | None) -> str | None:
        """The next page's URL: the query of the ``Link`` header's target, asked of the
        plant's own URL (the token is never sent to another host a header names)."""
        target = _next(link)
        if target is None:
            return None
        return f"{self.url}/api/v1/epcis/events?{urlsplit(target).query}"

    def ledger_info(self) -> dict[str, Any]:
        """The plant's ``GET /api/v1/ledger``: its trust anchors and its submitter."""
        body = self._json(f"{self.url}/api/v1/ledger")
        assert body is not None
        return body

    def pages(self) -> Iterator[dict[str, Any]]:
        """Every page of the plant's EPCIS query, following the ``Link`` header's next page.

        The next page is asked for while the caller checks this one (the plant exports as the
        regulator verifies), on a connection of its own."""
        pager = requests.Session()
        pager.headers.update(self.session.headers)
        first = f"{self.url}/api/v1/epcis/events?perPage={PER_PAGE}"
        with pager, ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-pages") as pool:
            ahead: Future[tuple[dict[str, Any] | None, str | None]] | None
            ahead = pool.submit(self._answer, first, session=pager)
            while ahead is not None:
                body, url = ahead.result()
                ahead = pool.submit(self._answer, url, session=pager) if url else None
                assert body is not None
                yield body

    def batch(self, root: str) -> dict[str, Any] | None:
        """The plant's batch anchored under ``root`` (None: the plant says it holds none)."""
        return self._json(f"{self.url}/api/v1/ledger/batches/{root}", missing_ok=True)


def _next(link: str | None) -> str | None:
    if not link:
        return None
    for part in link.split(","):
        target, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", ""):
            return target.strip().removeprefix("<").removesuffix(">")
    return None


def _reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return f"no answer within {TIMEOUT_S:.0f} s"
    if isinstance(exc, requests.ConnectionError):
        return "connection refused or host unknown"
    return type(exc).__name__


def _message(response: requests.Response) -> str:
    try:
        error = response.json().get("error", {})
        return str(error.get("message") or error)[:300]
    except (ValueError, AttributeError):
        return response.text[:200] or response.reason
