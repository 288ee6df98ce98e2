"""The one organisation scope (``register.scope.readable_orgs``, SPEC §2.1, §2.8)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlmodel import Session

from tests.register.conftest import edit_org_row
from tests.support.accounts import Actor
from traceability.accounts.services import principal_for
from traceability.register.scope import readable_orgs


def test_a_regulator_reads_its_region_and_everyone_else_their_own_organisation(
    app: Flask,
    session: Session,
    make_actor: Callable[..., Actor],
    collector: Actor,
    plant: Actor,
    auditor: Actor,
    beijing: Actor,
) -> None:
    plant_bj = make_actor("DIS-BJ", "dismantler", region="110100")
    operator = make_actor(plant.org, "dismantler", role="operator", username="floor")
    edit_org_row(app, plant.org, region="110000")  # the row lies: the register does not move

    def readable(actor: Actor, among: list[str] | None = None) -> frozenset[str]:
        return readable_orgs(
            session, principal_for(session=session, username=actor.username), among
        )

    assert readable(auditor) == {collector.org, plant.org, auditor.org}
    assert readable(beijing) == {plant_bj.org, beijing.org}
    assert readable(plant) == readable(operator) == {plant.org}
    assert readable(auditor, [plant.org, plant_bj.org, "NOBODY"]) == {plant.org}
    assert readable(plant, [collector.org]) == frozenset()
