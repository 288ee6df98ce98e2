"""Output lots (SPEC §2.4): one open lot per fraction per plant, closed when shipped."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from tests.support.accounts import Actor
from tests.support.floor import Handheld, catalog_toml, new_id, receive
from tests.support.manifests import lot_shipment, number
from tests.support.manifests import shipped as manifest_of
from traceability.custody.models import Event
from traceability.lots.models import Lot, LotItem


def lots(session: Session, org: str) -> dict[tuple[str, str], Lot]:
    """The plant's lots by (fraction, state)."""
    session.rollback()  # see what the requests committed
    found = session.exec(select(Lot).where(Lot.org == org)).all()
    return {(lot.fraction, lot.state): lot for lot in found}


def lot_of(session: Session, qr_id: str, fraction: str) -> str:
    session.rollback()
    return session.exec(
        select(LotItem.lot)
        .join(Lot, col(Lot.code) == col(LotItem.lot))
        .where(LotItem.device == qr_id, Lot.fraction == fraction)
    ).one()


def test_outputs_of_one_plant_share_one_open_lot_per_fraction(
    client: FlaskClient, collector: Actor, plant: Actor, session: Session
) -> None:
    first = receive(client, collector, plant)
    second = receive(client, collector, plant)
    Handheld(client, plant).dismantle(first, {"pcb": "1.25", "plastics": "4"})
    Handheld(client, plant).dismantle(second, {"pcb": "2.5", "copper": "0.75"})

    by_fraction = lots(session, plant.org)

    assert set(by_fraction) == {("pcb", "open"), ("plastics", "open"), ("copper", "open")}
    pcb = by_fraction[("pcb", "open")]
    assert (pcb.weight_g, pcb.device_count) == (3750, 2)
    assert lot_of(session, first, "pcb") == lot_of(session, second, "pcb") == pcb.code
    items = session.exec(select(LotItem).where(LotItem.lot == pcb.code)).all()
    assert sorted((i.device, i.weight_g) for i in items) == sorted([(first, 1250), (second, 2500)])


def test_hazard_flag_follows_the_catalogue(
    client: FlaskClient, collector: Actor, plant: Actor, session: Session
) -> None:
    fractions = catalog_toml()["fractions"]
    qr_id = receive(client, collector, plant)
    Handheld(client, plant).dismantle(
        qr_id, {"pcb": 1, "crt_funnel_glass": 5, "plastics": 3, "crt_panel_glass": 9}
    )

    flags = {fraction: lot.hazardous for (fraction, _), lot in lots(session, plant.org).items()}

    assert flags == {f: fractions[f]["hazardous"] for f in flags}
    assert flags["pcb"] is True and flags["plastics"] is False


def test_other_plants_have_their_own_lots(
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    make_actor: Callable[..., Actor],
    session: Session,
) -> None:
    other = make_actor("DIS-WX", "dismantler", region="320200")
    ours, theirs = receive(client, collector, plant), receive(client, collector, other)
    Handheld(client, plant).dismantle(ours, {"pcb": 1})
    Handheld(client, other).dismantle(theirs, {"pcb": 1})

    assert lot_of(session, ours, "pcb") != lot_of(session, theirs, "pcb")
    assert lots(session, other.org)[("pcb", "open")].org == other.org


def test_a_lot_travels_to_the_processor_and_later_outputs_start_a_new_lot(
    client: FlaskClient, collector: Actor, plant: Actor, processor: Actor, session: Session
) -> None:
    before = receive(client, collector, plant)
    Handheld(client, plant).dismantle(before, {"pcb": "2.5", "plastics": 4})
    pcb = lot_of(session, before, "pcb")

    manifest = number(client.application, 123)
    (shipped,) = Handheld(client, plant).record(
        {"type": "lot_shipped", "lot": pcb, "to": processor.org,
         "manifests": [manifest_of(manifest, "2.5")]},
    )  # fmt: skip
    after = receive(client, collector, plant)
    Handheld(client, plant).dismantle(after, {"pcb": 1, "plastics": 2})
    (received,) = Handheld(client, processor).record(
        {"type": "lot_received", "lot": pcb,
         "manifests": [{"number": manifest, "weight_kg": "2.48"}]}
    )  # fmt: skip
    (treated,) = Handheld(client, processor).record(
        {"type": "lot_treated", "lot": pcb, "method": "pyrometallurgy"}
    )

    assert lot_of(session, after, "pcb") != pcb  # the shipped lot was closed
    assert lot_of(session, after, "plastics") == lot_of(session, before, "plastics")
    lot = session.get(Lot, pcb)
    assert lot is not None
    assert (lot.state, lot.destination, lot.manifest_no) == ("treated", processor.org, manifest)
    assert (lot.weight_g, lot.received_weight_g, lot.treatment) == (2500, 2480, "pyrometallurgy")
    chain = session.exec(select(Event).where(Event.lot == pcb).order_by(col(Event.seq))).all()
    assert [(e.type, e.digest) for e in chain] == [
        ("lot_shipped", shipped),
        ("lot_received", received),
        ("lot_treated", treated),
    ]
    assert [e.prev for e in chain] == [None, shipped, received]
    assert lot.head_digest == treated


def test_lot_steps_out_of_order_are_refused(
    client: FlaskClient, collector: Actor, plant: Actor, processor: Actor, session: Session
) -> None:
    qr_id = receive(client, collector, plant)
    Handheld(client, plant).dismantle(qr_id, {"pcb": 1})
    pcb = lot_of(session, qr_id, "pcb")
    ship = {"type": "lot_shipped", "lot": pcb, "to": processor.org,
            **lot_shipment(client.application, pcb)}  # fmt: skip
    Handheld(client, plant).record(ship)

    again, treat_early = (
        Handheld(client, plant).post({"id": new_id(), **ship})[0],
        Handheld(client, processor).post(
            {"id": new_id(), "type": "lot_treated", "lot": pcb, "method": "landfill"},
        )[0],
    )

    assert (again["status"], again["error"]["code"]) == ("rejected", "invalid_transition")
    assert (treat_early["status"], treat_early["error"]["code"]) == (
        "rejected",
        "invalid_transition",
    )


def test_a_lots_shipping_record_is_corrected_by_the_plant_only_until_the_processor_has_it(
    client: FlaskClient, collector: Actor, plant: Actor, processor: Actor, session: Session
) -> None:
    Handheld(client, plant).dismantle(receive(client, collector, plant), {"pcb": "2.5"})
    pcb = lots(session, plant.org)[("pcb", "open")].code
    shipped = new_id()
    first, second, third = (number(client.application, n) for n in (1, 2, 3))
    ship = {"type": "lot_shipped", "lot": pcb, "to": processor.org,
            "manifests": [manifest_of(first, "2.5")]}  # fmt: skip
    Handheld(client, plant).record({**ship, "id": shipped})

    def fix(manifest: str) -> dict:
        return {
            "id": new_id(),
            "type": "corrected",
            "corrects": shipped,
            "reason": "manifest mistyped",
            "fields": {"manifests": [manifest_of(manifest, "2.5")]},
        }

    Handheld(client, plant).record(fix(second))
    Handheld(client, processor).record(
        {"type": "lot_received", "lot": pcb, "manifests": [{"number": second, "weight_kg": "2.5"}]}
    )

    [late] = Handheld(client, plant).post(fix(third))

    assert (late["status"], late["error"]["code"]) == ("rejected", "not_custodian")
    assert lots(session, plant.org)[("pcb", "received")].manifest_no == second
