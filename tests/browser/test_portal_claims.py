"""Claims in the browser (/portal/claims, issue 18 item 7), in real Chromium at 1440×900
over the demo quarter (``live_demo``).

A plant's manager creates the quarter's claim, inspects it (lines, flagged rows first,
the exclusions of a reason down to a device) and submits it; the region's auditor
rejects one device with a reason code, approves the rest and opens the 审核核定
table. Screenshots in zh-CN and English go to tests/artifacts/screens/claims-*.png.
Another region's auditor, another plant's manager and the wrong role get a 403;
a form without its CSRF token changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import ARTIFACTS, sign_in_page
from tests.support.claims import submitted_claim
from tests.support.live import LiveServer, live_demo
from traceability import demo
from traceability.app import trace_of
from traceability.periods import last_closed_quarter, quarter_of

SCREEN = {"width": 1440, "height": 900}
PERIOD = "2026Q3"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_demo(tmp_path_factory.mktemp("claims"), devices=400) as live:
        yield live


@pytest.fixture(scope="module")
def beijing_claim(server: LiveServer) -> int:
    """DIS-BJ01's claim of the quarter, submitted: outside Jiangsu and DIS-SZ01."""
    return submitted_claim(server.app, "bj.manager", PERIOD)


def signed_in(browser: Any, server: LiveServer, username: str, lang: str = "zh-CN") -> Any:
    context = browser.new_context(viewport=SCREEN, locale=lang, accept_downloads=True)
    page = context.new_page()
    sign_in_page(page, server.url, username, demo.PASSWORD)
    return page


def shot(page: Any, name: str) -> Path:
    path = ARTIFACTS / "screens" / f"claims-{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def claim_json(page: Any, server: LiveServer, claim_id: int) -> Any:
    """The claim as the API shows it to the signed-in browser."""
    response = page.context.request.get(f"{server.url}/api/v1/claims/{claim_id}?per_page=1000")
    assert response.status == 200, response.text()
    return response.json()


def test_a_manager_creates_inspects_and_submits_and_an_auditor_rejects_one_and_approves_the_rest(
    server: LiveServer, browser: Any
) -> None:
    zh = signed_in(browser, server, "sz.manager", "zh-CN")
    try:
        claim_id = manager_creates_and_inspects(zh, server)
        shot(zh, "draft-zh")
        manager_submits(zh, server, claim_id)
    finally:
        zh.context.close()
    en = signed_in(browser, server, "js.auditor", "en-US")
    try:
        rejected = auditor_reviews(en, server, claim_id)
        auditor_prints(en, server, claim_id, rejected)
    finally:
        en.context.close()
    zh = signed_in(browser, server, "js.auditor", "zh-CN")
    try:
        zh.goto(f"{server.url}/portal/claims/{claim_id}")
        assert zh.get_attribute("[data-state]", "data-state") == "partially_approved"
        shot(zh, "reviewed-zh")
        zh.goto(f"{server.url}/portal/claims/{claim_id}/approval")
        assert "审核核定" in zh.inner_text("h1")
        shot(zh, "approval-zh")
    finally:
        zh.context.close()


def manager_creates_and_inspects(page: Any, server: LiveServer) -> int:
    page.goto(f"{server.url}/portal/claims")
    assert page.inner_text("h1") == "补贴申报"
    # The open quarter is not offered: the latest offered is the last closed one (by the
    # app's clock: the demo's quarter is fixed, the day the suite runs is not).
    offered = page.eval_on_selector_all("select[name=period] option", "os => os.map(o => o.value)")
    last_closed = last_closed_quarter(trace_of(server.app).now()).name
    assert PERIOD in offered and max(offered) == last_closed, (offered, last_closed)
    page.select_option("select[name=period]", PERIOD)
    page.click("form[data-form=create-claim] button[type=submit]")
    page.wait_for_selector("[data-state=draft]")
    claim_id = int(page.url.rsplit("/", 1)[1])
    shown = claim_json(page, server, claim_id)
    assert shown["units"] > 0 and shown["excluded_by_reason"]
    assert len(shown["devices"]) == shown["units"]
    # Lines: one row per line, their units adding up to the claim's.
    lines = page.eval_on_selector_all(
        "[data-table=lines] tbody tr[data-line]", "rs => rs.map(r => r.dataset.line)"
    )
    assert sorted(lines) == sorted(line["tier"] for line in shown["lines"])
    # The devices, flagged rows first: as many flagged as the API's devices carry flags.
    order = page.eval_on_selector_all("section.card[id]", "ss => ss.map(s => s.id)")
    assert order.index("review") < order.index("devices") < order.index("excluded")
    flagged = sum(1 for d in shown["devices"] if d["flags"])
    assert page.get_attribute("[data-flagged-total]", "data-flagged-total") == str(flagged)
    rows = page.eval_on_selector_all(
        "[data-table=devices] tr[data-device]", "rs => rs.map(r => r.dataset.flags)"
    )
    assert len(rows) == min(shown["units"], 50)
    assert rows == sorted(rows, key=lambda flags: not flags)  # no flagged row after a plain one
    # The exclusions of one reason, down to a device.
    reason, count = max(shown["excluded_by_reason"].items(), key=lambda kv: kv[1])
    page.click(f"a[data-reason={reason}]")
    page.wait_for_url(f"**reason={reason}**")
    rows = page.locator("[data-table=excluded] tr[data-excluded]")
    assert rows.count() == min(count, 50)
    device = rows.first.get_attribute("data-excluded")
    rows.first.locator("a").click()
    page.wait_for_url(f"**/portal/devices/{device}")
    page.go_back()
    return claim_id


def manager_submits(page: Any, server: LiveServer, claim_id: int) -> None:
    page.goto(f"{server.url}/portal/claims/{claim_id}")
    page.click("form[data-form=recompute] button")
    page.wait_for_selector("[data-done=recomputed]")
    assert claim_json(page, server, claim_id)["state"] == "draft"
    page.click("form[data-form=submit] button")
    page.wait_for_selector("[data-done=submitted]")
    assert page.get_attribute("[data-state]", "data-state") == "submitted"
    assert page.locator("form[data-form=submit]").count() == 0  # frozen
    shot(page, "submitted-zh")
    download = page.context.request.get(f"{server.url}/api/v1/claims/{claim_id}/export.xlsx")
    assert download.status == 200 and download.body()[:2] == b"PK"
    page.goto(f"{server.url}/portal/claims")
    assert page.get_attribute(f"[data-claim] a[href$='/claims/{claim_id}']", "href")
    shot(page, "list-zh")


def auditor_reviews(page: Any, server: LiveServer, claim_id: int) -> str:
    page.goto(f"{server.url}/portal/claims")
    shot(page, "list-en")
    page.click(f"[data-claim] a[href$='/claims/{claim_id}']")
    page.wait_for_selector("[data-state=submitted]")
    before = claim_json(page, server, claim_id)
    # Reject the first device (a flagged one, if any is) with a code and a note.
    row = page.locator("[data-table=devices] tr[data-device]").first
    qr_id = row.get_attribute("data-device")
    row.locator("select[name=reason]").select_option("video_missing")
    row.locator("input[name=note]").fill("No video of work station 3")
    shot(page, "review-en")
    row.locator("button[value=reject]").click()
    page.wait_for_selector("[data-done=reviewed]")
    done = page.locator(f"[data-table=devices] tr[data-device='{qr_id}'] [data-review]")
    assert done.get_attribute("data-review") == "rejected"
    page.click("form[data-form=approve-rest] button")
    page.wait_for_selector("[data-done=reviewed]")
    assert page.get_attribute("[data-state]", "data-state") == "partially_approved"
    after = claim_json(page, server, claim_id)
    outcomes = {d["qr_id"]: (d["review"], d["review_reason"]) for d in after["devices"]}
    assert outcomes.pop(qr_id) == ("rejected", "video_missing")
    assert set(outcomes.values()) == {("approved", None)}
    rate = next(d["rate_yuan"] for d in after["devices"] if d["qr_id"] == qr_id)
    assert after["approved_yuan"] == before["total_yuan"] - rate
    assert [e["type"] for e in after["events"]] == [
        "claim_submitted",
        "claim_reviewed",
        "claim_reviewed",
    ]
    assert after["events"][1]["payload"]["decisions"][0]["note"] == "No video of work station 3"
    shot(page, "reviewed-en")
    return str(qr_id)


def auditor_prints(page: Any, server: LiveServer, claim_id: int, rejected: str) -> None:
    page.click("[data-approval-link]")
    page.wait_for_selector("[data-table=approval]")
    lines = page.eval_on_selector_all(
        "[data-table=approval] tbody tr",
        "rs => rs.map(r => [r.dataset.line, +r.dataset.claimed, +r.dataset.approved,"
        " +r.dataset.deducted, r.dataset.reasons])",
    )
    shown = claim_json(page, server, claim_id)
    tier = next(d["tier"] for d in shown["devices"] if d["qr_id"] == rejected)
    units = {line["tier"]: line["units"] for line in shown["lines"]}
    for line, claimed, approved, deducted, reasons in lines:
        assert claimed == units[line] == approved + deducted
        assert (deducted, reasons) == ((1, "video_missing") if line == tier else (0, ""))
    page.emulate_media(media="print")
    assert (
        page.locator(".portal-nav").is_hidden() and page.locator("button[data-print]").is_hidden()
    )
    shot(page, "approval-en-print")
    page.emulate_media(media="screen")


def csrf_of(page: Any) -> str:
    return str(page.get_attribute("meta[name=csrf-token]", "content"))


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("js.auditor", ""),  # another region's claim
        ("sz.manager", ""),  # another plant's claim
        ("js.auditor", "/approval"),
        ("sz.manager", "/approval"),
    ],
)
def test_a_claim_outside_the_readers_scope_is_a_403(
    server: LiveServer, browser: Any, beijing_claim: int, username: str, path: str
) -> None:
    page = signed_in(browser, server, username)
    try:
        response = page.goto(f"{server.url}/portal/claims/{beijing_claim}{path}")
        assert response is not None and response.status == 403
        page.goto(f"{server.url}/portal/claims")
        listed = page.eval_on_selector_all("[data-claim]", "rs => rs.map(r => r.dataset.claim)")
        assert not any(code.startswith("DIS-BJ01") for code in listed)
    finally:
        page.context.close()


@pytest.mark.parametrize(
    ("username", "action", "form"),
    [
        ("js.auditor", "review", {"decision": "approve"}),  # another region's auditor
        ("bj.manager", "review", {"decision": "approve"}),  # the plant's manager reviews not
        ("bj.auditor", "submit", {}),  # an auditor submits not
        ("bj.auditor", "recompute", {}),
        ("sz.manager", "recompute", {}),  # another plant's manager
    ],
)
def test_a_claim_write_outside_the_users_role_or_scope_is_a_403_and_changes_nothing(
    server: LiveServer,
    browser: Any,
    beijing_claim: int,
    username: str,
    action: str,
    form: dict[str, str],
) -> None:
    page = signed_in(browser, server, username)
    try:
        before = claim_json_as(browser, server, beijing_claim)
        response = page.context.request.post(
            f"{server.url}/portal/claims/{beijing_claim}/{action}",
            form={**form, "csrf_token": csrf_of(page)},
        )
        assert response.status == 403, response.text()[:300]
        assert claim_json_as(browser, server, beijing_claim) == before
    finally:
        page.context.close()


def claim_json_as(browser: Any, server: LiveServer, claim_id: int) -> Any:
    page = signed_in(browser, server, "bj.auditor")
    try:
        shown = claim_json(page, server, claim_id)
        return (shown["state"], shown["approved_yuan"], len(shown["events"]))
    finally:
        page.context.close()


def test_the_region_auditor_reads_the_claim_and_a_form_without_its_csrf_token_changes_nothing(
    server: LiveServer, browser: Any, beijing_claim: int
) -> None:
    page = signed_in(browser, server, "bj.auditor")
    try:
        response = page.goto(f"{server.url}/portal/claims")
        assert response is not None and response.status == 200
        listed = page.eval_on_selector_all("[data-claim]", "rs => rs.map(r => r.dataset.claim)")
        assert [c for c in listed if c.startswith("DIS-BJ01-2026Q3")], listed
        forged = page.context.request.post(
            f"{server.url}/portal/claims/{beijing_claim}/review", form={"decision": "approve"}
        )
        assert forged.status == 400
        assert claim_json(page, server, beijing_claim)["state"] == "submitted"
        # An unknown reason code is refused naming it, in the page's language.
        bad = page.context.request.post(
            f"{server.url}/portal/claims/{beijing_claim}/review",
            form={"decision": "reject", "reason": "no_video", "csrf_token": csrf_of(page)},
        )
        assert bad.status == 422 and "data-error" in bad.text()
        assert claim_json(page, server, beijing_claim)["state"] == "submitted"
    finally:
        page.context.close()


def test_the_open_quarter_is_refused_with_its_reason_in_the_pages_language(
    server: LiveServer, browser: Any
) -> None:
    page = signed_in(browser, server, "bj.manager", "zh-CN")
    try:
        page.goto(f"{server.url}/portal/claims")
        before = page.eval_on_selector_all("[data-claim]", "rs => rs.map(r => r.dataset.claim)")
        open_quarter = quarter_of(trace_of(server.app).now()).name
        response = page.context.request.post(
            f"{server.url}/portal/claims",
            form={"period": open_quarter, "csrf_token": csrf_of(page)},
        )
        assert response.status == 422
        assert "该季度尚未结束" in response.text()
        page.goto(f"{server.url}/portal/claims")
        after = page.eval_on_selector_all("[data-claim]", "rs => rs.map(r => r.dataset.claim)")
        assert after == before
    finally:
        page.context.close()


def test_an_operator_has_no_claims_page(server: LiveServer, browser: Any) -> None:
    page = signed_in(browser, server, "bjcy.op")
    try:
        response = page.goto(f"{server.url}/portal/claims")
        assert response is not None and response.status == 403
    finally:
        page.context.close()
