"""A high finding's case closed with a reason from its device's page, in a real browser, on
the demo (issue 20 item 2); the claim review screen lists the claim's open high cases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from tests.support.browser import sign_in_page
from tests.support.claims import submitted_claim
from tests.support.live import LiveServer, live_demo
from traceability import demo
from traceability.accounts.services import principal_for
from traceability.app import trace_of
from traceability.audit.cases import CaseAction, CaseKey, act_on_case
from traceability.audit.sample_outcomes import SAMPLE_RULE
from traceability.claims.models import ClaimItem

PERIOD = "2026Q3"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_demo(tmp_path_factory.mktemp("cases"), devices=300) as live:
        yield live


@pytest.fixture(scope="module")
def claim_id(server: LiveServer) -> int:
    return submitted_claim(server.app, "sz.manager", PERIOD)


def reviewer_case_on(server: LiveServer, claim_id: int) -> str:
    """A reviewer's high case (a sampled video that does not match) on the claim's first
    device, opened through the domain as the sample page does; its code."""
    trace = trace_of(server.app)
    with Session(trace.engine) as session:
        item = ClaimItem.__table__.c  # type: ignore[attr-defined]
        first = session.execute(
            select(item.qr_id).where(item.claim_id == claim_id).order_by(item.qr_id).limit(1)
        ).scalar_one()
        key = CaseKey(SAMPLE_RULE, "DIS-SZ01", first)
        auditor = principal_for(session=session, username="js.auditor")
        act = CaseAction(action="comment", text="footage shows two units")
        act_on_case(session, auditor, key, act, trace.now(), opened={"period": PERIOD})
    return key.code


def open_high(page: Any, base: str, plant: str = "") -> list[str]:
    page.goto(f"{base}/portal/cases?state=open&severity=high&plant={plant}")
    rows = page.locator("table[data-table=cases] tbody tr[data-case]")
    return [rows.nth(i).get_attribute("data-case") for i in range(rows.count())]


@pytest.mark.parametrize(("lang", "reason"), [("zh-CN", "false_positive"), ("en", "explained")])
def test_a_high_case_is_closed_with_a_reason_from_its_device_page(
    server: LiveServer, browser: Any, lang: str, reason: str
) -> None:
    context = browser.new_context(locale=lang, viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        sign_in_page(page, server.url, "js.auditor", demo.PASSWORD)
        before = open_high(page, server.url)
        # The first open high case that names one device: its device link, one click.
        row = page.locator("table[data-table=cases] tbody tr[data-case]:has(a[data-case-device])")
        code = row.first.get_attribute("data-case")
        row.first.locator("a[data-case-device]").click()
        page.wait_for_load_state()
        assert "/portal/devices/" in page.url
        device_url = page.url
        form = page.locator(f"form[data-close-case='{code}']")
        form.locator("[data-close-reason]").select_option(reason)
        form.locator("[data-close-note]").fill("checked against the weigh slips")
        form.locator("[data-close-submit]").click()  # the one click that closes it
        page.wait_for_load_state()
        assert page.url == device_url  # back on the device page
        box = page.locator(f"[data-case='{code}']")
        assert box.get_attribute("data-case-state") == "closed"
        assert page.locator(f"form[data-close-case='{code}']").count() == 0
        after = open_high(page, server.url)
        assert code in before and code not in after and len(after) == len(before) - 1
        page.goto(f"{server.url}/portal/cases/{code}")
        steps = page.locator("ol[data-timeline] li[data-step]")
        assert steps.last.get_attribute("data-step") == "case_closed"
        assert "(UTC+8)" in steps.last.inner_text()
    finally:
        context.close()


def test_the_claim_review_lists_the_claims_open_high_cases(
    server: LiveServer, browser: Any, claim_id: int
) -> None:
    context = browser.new_context(locale="en", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        sign_in_page(page, server.url, "js.auditor", demo.PASSWORD)
        opened = reviewer_case_on(server, claim_id)
        page.goto(f"{server.url}/portal/claims/{claim_id}")
        section = page.locator("[data-open-cases]")
        listed = [
            section.locator("li[data-case]").nth(i).get_attribute("data-case")
            for i in range(section.locator("li[data-case]").count())
        ]
        plant = "DIS-SZ01"  # sz.manager's plant in the demo
        # Each is one of the plant's open high cases (the case list agrees).
        assert set(listed) <= set(open_high(page, server.url, plant))
        assert opened in listed
        if listed:  # closing one takes it off the claim's screen
            page.goto(f"{server.url}/portal/cases/{listed[0]}")
            form = page.locator(f"form[data-close-case='{listed[0]}']")
            form.locator("[data-close-reason]").select_option("confirmed_deduction")
            form.locator("[data-close-submit]").click()
            page.wait_for_load_state()
            page.goto(f"{server.url}/portal/claims/{claim_id}")
            again = page.locator("[data-open-cases] li[data-case]")
            shown = [again.nth(i).get_attribute("data-case") for i in range(again.count())]
            assert listed[0] not in shown
    finally:
        context.close()
