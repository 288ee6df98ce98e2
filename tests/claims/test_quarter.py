"""A claim over a generated quarter: every tier, every exclusion reason, on a real anvil node."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session

from tests.claims.quarter import ELIGIBLE, EXCLUDED, Quarter
from traceability.accounts.services import get_org
from traceability.app import trace_of
from traceability.claims import helper_process
from traceability.claims.assess import Computed
from traceability.claims.evidence import candidates
from traceability.claims.services import compute
from traceability.periods import parse_period
from traceability.reports.devices import open_reader

pytestmark = pytest.mark.integration

EXAMPLE = "example-province-2024-2027"
EXAMPLE_RATES = {
    "tv_crt_14_25": 35,
    "tv_crt_25_up_or_flat": 40,
    "pc_desktop_laptop": 40,
    "washer_single_spin": 20,
    "washer_twin_auto_drum": 25,
    "fridge_50_500": 50,
    "ac_up_to_14000w": 90,
}


def test_every_tier_is_claimed_at_the_rate_of_its_schedule(quarter: Quarter) -> None:
    claim = quarter.claim()
    assert claim["state"] == "draft"
    devices = {d["qr_id"]: d for d in quarter.show(claim["id"], per_page=1000)["devices"]}
    for name, (*_, tier) in ELIGIBLE.items():
        got = devices[quarter.devices[name]]
        assert (got["tier"], got["schedule"]) == (tier, EXAMPLE), name
        assert got["rate_yuan"] == EXAMPLE_RATES[tier], name
    assert set(devices) == {quarter.devices[n] for n in ELIGIBLE}
    assert claim["units"] == len(ELIGIBLE)
    assert claim["total_yuan"] == sum(EXAMPLE_RATES[t] for *_, t in ELIGIBLE.values())
    assert {line["tier"] for line in claim["lines"]} == set(EXAMPLE_RATES)
    assert sum(line["amount"] for line in claim["lines"]) == claim["total_yuan"]
    [schedule] = claim["schedules"]
    assert schedule["id"] == EXAMPLE and len(schedule["sha256"]) == 64
    assert "EXAMPLE" in schedule["label"]


def test_every_excluded_device_is_listed_with_its_reason(quarter: Quarter) -> None:
    claim = quarter.claim()
    excluded = {e["qr_id"]: e for e in quarter.show(claim["id"], per_page=1000)["excluded"]}
    expected = {name: reason for name, (*_, reason) in EXCLUDED.items()}
    expected |= {
        "next_quarter": "not_dismantled_here_in_period",
        "unconfirmed": "hazardous_output_unconfirmed",
        "tampered": "not_verified",
        "pending": "not_verified",
    }
    got = {name: excluded[quarter.devices[name]]["reasons"][0]["code"] for name in expected}
    assert got == expected
    assert len(excluded) == len(expected) == claim["page"]["excluded_total"]
    assert "pending" in excluded[quarter.devices["pending"]]["reasons"][0]["detail"]
    assert "tampered" in excluded[quarter.devices["tampered"]]["reasons"][0]["detail"]
    assert "pcb" in excluded[quarter.devices["unconfirmed"]]["reasons"][0]["detail"]
    assert "crt_funnel_glass" in excluded[quarter.devices["crt_no_funnel"]]["reasons"][0]["detail"]
    assert sum(claim["excluded_by_reason"].values()) == len(expected)


def test_a_helper_process_assessing_the_later_devices_gives_the_same_claim(
    quarter: Quarter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large claim assesses its later devices in a helper process (its own database
    session and ledger reader), in parts, taking back those the helper has not
    started: the result must be the claim one process computes."""
    app = quarter.client.application
    settings = trace_of(app).settings
    with app.app_context(), Session(trace_of(app).engine) as session:
        org = get_org(session, quarter.plant.org)
        ledger = open_reader(session, trace_of(app).ledger)
        period = parse_period("2026Q3", months=False)
        where = {"plant": org.code, "region": org.region, "period": period, "claim_id": None}
        catalog = trace_of(app).catalog
        alone = compute(session, catalog, ledger=ledger, **where)
        monkeypatch.setattr(helper_process, "SPLIT_FROM", 2)
        monkeypatch.setattr(helper_process, "PART", 3)  # several parts, joined in order
        shared = compute(session, catalog, ledger=ledger, settings=settings, **where)
        # Every part assessed by the helper (none taken back): the same again.
        with helper_process.Helper(settings, ledger) as other:
            parts = other.assess(candidates(session, org.code, period), **where)
            by_helper = Computed()
            for _, future in parts:
                by_helper.extend(future.result())
    assert len(alone.items) > 3 and len(alone.exclusions) > 3
    assert len(parts) > 3
    for computed in (shared, by_helper):
        assert computed.items == alone.items
        assert computed.exclusions == alone.exclusions
        assert computed.schedules == alone.schedules


def test_a_helper_that_cannot_start_leaves_the_whole_claim_to_this_process(
    quarter: Quarter, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The helper reads the deployment's rate schedules itself: if that file is gone it
    never starts a part, and the claim's own process takes every part back."""
    app = quarter.client.application
    gone = tmp_path / "rates-removed.toml"
    settings = trace_of(app).settings.model_copy(update={"rate_schedules": gone})
    with app.app_context(), Session(trace_of(app).engine) as session:
        org = get_org(session, quarter.plant.org)
        ledger = open_reader(session, trace_of(app).ledger)
        period = parse_period("2026Q3", months=False)
        catalog = trace_of(app).catalog
        alone = compute(session, catalog, plant=org.code, region=org.region, period=period,
                        ledger=ledger)  # fmt: skip
        monkeypatch.setattr(helper_process, "SPLIT_FROM", 2)
        monkeypatch.setattr(helper_process, "PART", 3)
        shared = compute(session, catalog, plant=org.code, region=org.region, period=period,
                         ledger=ledger, settings=settings)  # fmt: skip
    assert shared.items == alone.items
    assert shared.exclusions == alone.exclusions
