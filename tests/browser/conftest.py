"""Browser tests: the real app on a live port and Debian's headless Chromium at 360×640.

Both are module-scoped (starting them is the slow part); each test opens its
own browser context (fresh cookies, storage and service workers) and creates
its own users, so tests never see each other's sessions. Screenshots go to
tests/artifacts/screens/ (gitignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, chromium, phone_context
from tests.support.live import LiveServer, live_server

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium (apt-get install chromium; .ci/run installs it)",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("live")) as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium")
    with chromium() as browser:
        yield browser


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A page in a fresh zh-CN phone profile."""
    context = phone_context(browser, "zh-CN")
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def phone_en(browser: Any) -> Iterator[Any]:
    """A page in a fresh English phone profile."""
    context = phone_context(browser, "en-US")
    try:
        yield context.new_page()
    finally:
        context.close()
