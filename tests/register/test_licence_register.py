"""Licences are register events (SPEC §2.8, §3): set by a regulator's admin through the API
or the CLI, anchored and verified like every event, replayed for any day."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlmodel import Session, col, select

from tests.support.accounts import Actor
from tests.support.ledger import anchor
from tests.support.manifests import USCC
from traceability.app import trace_of
from traceability.cli import main
from traceability.custody.models import Event
from traceability.register.uscc import InvalidUscc, normalise_uscc
from traceability.verification.reconciliation import verify_everything

DISMANTLING = {
    "kind": "dismantling",
    "number": "苏环废电证第003号",
    "uscc": USCC["DIS-SZ"],
    "valid_from": "2024-01-01",
    "valid_to": "2028-12-31",
    "scope": {"tv": 600_000, "refrigerator": 200_000},
}


@pytest.fixture
def admin(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("REG-JS", "regulator", role="admin", region="320000")


def licence_events(app: Flask, code: str) -> list[Event]:
    with Session(trace_of(app).engine) as session:
        query = select(Event).where(col(Event.organisation) == code).order_by(col(Event.seq))
        return [e for e in session.exec(query).all() if e.type.startswith("licence_")]


@pytest.mark.parametrize(
    "code",
    ["91350100M000100Y43", "91110000600037341L", " 91350100m000100y43 "],
)
def test_a_unified_social_credit_code_with_its_check_character_is_accepted(code: str) -> None:
    assert normalise_uscc(code) == code.strip().upper()


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y44",  # the check character mistyped
        "91350100M000100Y34",  # the last two swapped
        "91350100M00010Y43",  # 17 characters
        "91350100M000100I43",  # I is not in the alphabet
        "9135A100M000100Y43",  # the region code is digits
        "",
    ],
)
def test_a_code_that_is_not_one_is_refused(code: str) -> None:
    with pytest.raises(InvalidUscc) as refused:
        normalise_uscc(code)
    assert refused.value.field == "uscc"


def test_a_regulator_admin_issues_and_amends_a_licence_through_the_api(
    app: Flask, client: FlaskClient, admin: Actor, plant: Actor
) -> None:
    issued = client.post(
        f"/api/v1/orgs/{plant.org}/licences", json=DISMANTLING, headers=admin.headers
    )
    amended = client.post(
        f"/api/v1/orgs/{plant.org}/licences/amendments",
        json={
            "number": DISMANTLING["number"],
            "effective": "2026-07-01",
            "scope": {**DISMANTLING["scope"], "microcomputer": 150_000},
        },
        headers=admin.headers,
    )

    assert issued.status_code == 201, issued.get_json()
    assert amended.status_code == 200, amended.get_json()
    assert amended.get_json()["amendments"] == 1
    june = client.get(f"/api/v1/orgs/{plant.org}/licences?on=2026-06-30", headers=plant.headers)
    july = client.get(f"/api/v1/orgs/{plant.org}/licences?on=2026-07-01", headers=plant.headers)
    after = client.get(f"/api/v1/orgs/{plant.org}/licences?on=2029-01-01", headers=plant.headers)
    assert "microcomputer" not in june.get_json()["licences"][0]["scope"]
    assert july.get_json()["licences"][0]["scope"]["microcomputer"] == 150_000
    assert (july.get_json()["licences"][0]["valid"], after.get_json()["licences"][0]["valid"]) == (
        True, False,
    )  # fmt: skip
    events = licence_events(app, plant.org)
    assert [(e.type, e.org, e.actor) for e in events] == [
        ("licence_issued", "REG-JS", admin.username),
        ("licence_amended", "REG-JS", admin.username),
    ]
    assert events[1].prev == events[0].digest  # on the organisation's chain


BAD_ISSUES: list[tuple[str, dict[str, Any], int, str]] = [
    ("USCC check character", {"uscc": "91320500MA1MXXXX0Y"}, 422, "uscc"),
    ("a processor's kind", {"kind": "hazardous_waste", "scope": {"HW49": 100}}, 422, "kind"),
    ("unknown category", {"scope": {"toaster": 10}}, 422, "scope.toaster"),
    ("no capacity", {"scope": {"tv": 0}}, 422, "scope.tv"),
    ("ends before it starts", {"valid_to": "2023-12-31"}, 422, "valid_to"),
    ("not a date", {"valid_from": "next year"}, 422, "valid_from"),
    ("empty number", {"number": "  "}, 422, "number"),
]


@pytest.mark.parametrize(
    ("change", "status", "field"), [b[1:] for b in BAD_ISSUES], ids=[b[0] for b in BAD_ISSUES]
)
def test_a_bad_licence_is_refused_naming_the_field_and_nothing_is_recorded(
    app: Flask, client: FlaskClient, admin: Actor, plant: Actor,
    change: dict[str, Any], status: int, field: str,
) -> None:  # fmt: skip
    response = client.post(
        f"/api/v1/orgs/{plant.org}/licences", json={**DISMANTLING, **change}, headers=admin.headers
    )

    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["field"] == field
    assert licence_events(app, plant.org) == []


def test_only_a_regulator_admin_of_the_holders_region_records_a_licence(
    app: Flask, client: FlaskClient, make_actor: Callable[..., Actor], admin: Actor,
    plant: Actor,
) -> None:  # fmt: skip
    auditor = make_actor("REG-JS", "regulator", role="auditor", region="320000")
    beijing = make_actor("REG-BJ", "regulator", role="admin", region="110000")
    url = f"/api/v1/orgs/{plant.org}/licences"

    by_auditor = client.post(url, json=DISMANTLING, headers=auditor.headers)
    by_plant = client.post(url, json=DISMANTLING, headers=plant.headers)
    by_other_region = client.post(url, json=DISMANTLING, headers=beijing.headers)
    twice = [client.post(url, json=DISMANTLING, headers=admin.headers) for _ in range(2)]

    assert (by_auditor.status_code, by_plant.status_code) == (403, 403)
    assert by_other_region.status_code == 403
    assert by_other_region.get_json()["error"]["field"] == "org"
    assert [r.status_code for r in twice] == [201, 409]
    assert twice[1].get_json()["error"]["field"] == "number"
    assert len(licence_events(app, plant.org)) == 1


def test_the_cli_issues_amends_and_shows_as_the_system_admin(app: Flask, plant: Actor) -> None:
    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, list(args), obj=trace_of(app))
        return result.exit_code, result.output

    code, out = run("orgs", "licence", "issue", plant.org, "--kind", "dismantling",
                    "--number", "SZ-003", "--uscc", USCC["DIS-SZ"], "--from", "2024-01-01",
                    "--to", "2028-12-31", "--scope", "tv=600000", "--scope",
                    "refrigerator=200000")  # fmt: skip
    assert code == 0, out
    assert run("orgs", "licence", "amend", plant.org, "SZ-003", "--effective", "2026-01-01",
               "--to", "2026-06-30")[0] == 0  # fmt: skip
    code, out = run("orgs", "licence", "amend", plant.org, "SZ-003", "--effective", "2026-01-01",
                    "--scope", "phaser=1")  # fmt: skip
    assert code != 0 and "scope.phaser" in out

    code, out = run("orgs", "licence", "show", plant.org, "--on", "2026-07-01")
    [shown] = json.loads(out)
    assert (code, shown["number"], shown["valid"], shown["valid_to"]) == (
        0, "SZ-003", False, "2026-06-30",
    )  # fmt: skip
    assert [(e.type, e.actor) for e in licence_events(app, plant.org)] == [
        ("licence_issued", "system"),
        ("licence_amended", "system"),
    ]


class TestAnchored:
    @pytest.fixture
    def settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {**settings, "ledger_mode": "memory"}

    def test_licence_events_are_anchored_verified_and_an_edit_is_tampered(
        self, app: Flask, client: FlaskClient, admin: Actor, plant: Actor
    ) -> None:
        url = f"/api/v1/orgs/{plant.org}/licences"
        assert client.post(url, json=DISMANTLING, headers=admin.headers).status_code == 201
        anchor(client, plant)

        report = verify_everything(trace_of(app))
        assert report.ok, report
        assert report.counts == {"verified": 3}  # DIS-SZ and REG-JS registered, the licence

        [issued] = licence_events(app, plant.org)
        with trace_of(app).engine.begin() as conn:  # another category, says the DBA
            payload = {**issued.payload, "categories": {"tv": 600_000, "copier": 9}}
            conn.execute(
                text("UPDATE event SET payload = :p WHERE id = :id"),
                {"p": json.dumps(payload), "id": issued.id},
            )
        report = verify_everything(trace_of(app))
        assert [(p.status, p.subject, p.event_id) for p in report.problems] == [
            ("tampered", plant.org, issued.id)
        ]
