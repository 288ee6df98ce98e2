"""Each way the ledger can disagree with its trust anchors is one typed problem (SPEC §3).

Every problem here comes from a real situation on a real anvil node: a chain
reset, a registry with no code, a registry of another owner, a database that
names another registry, trust anchors missing or unreadable, a node that does
not answer. What a status says follows the problem's kind, never the words of
its message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlmodel import Session, SQLModel

from ledger.chain import Web3Ledger
from ledger.node import ANVIL_DEV_KEYS, ManagedNode, NodeKind
from tests.support.accounts import Actor
from tests.support.floor import make_device
from tests.support.ledger import anchor, verification
from traceability import create_app
from traceability.anchoring.connection import open_ledger
from traceability.anchoring.models import LedgerMeta
from traceability.anchoring.trust import ProblemKind, TrustedLedger
from traceability.app import trace_of
from traceability.reports.devices import open_reader

pytestmark = pytest.mark.integration

META = LedgerMeta.__table__  # type: ignore[attr-defined]
OWNER_KEY, PLANT_KEY, OTHER_KEY = ANVIL_DEV_KEYS
#: An address no contract was ever deployed at.
NO_CODE = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture
def node_kind() -> NodeKind:
    return "anvil"


@pytest.fixture
def ledger_node(anvil_node: ManagedNode) -> ManagedNode:
    return anvil_node


@contextmanager
def configured_app(settings: dict[str, Any], **changes: Any) -> Iterator[Flask]:
    """An app of the same database whose settings differ by ``changes``."""
    app = create_app({**settings, **changes})
    SQLModel.metadata.create_all(trace_of(app).engine)
    yield app
    trace_of(app).engine.dispose()


def chain_anchors(node: ManagedNode, registry: str, owner_key: str = OWNER_KEY) -> dict[str, Any]:
    """Configured (rpc) trust anchors naming ``registry`` on ``node``'s chain, owned by the
    holder of ``owner_key``, as the regulator would publish them."""
    client = Web3Ledger.from_rpc(node.url, private_key=owner_key, contract_address=None)
    info = client.info()
    return {
        "ledger_contract": registry,
        "ledger_chain_id": info.chain_id,
        "ledger_genesis_hash": info.genesis_hash,
        "ledger_registry_owner": client.address,
    }


def trusted_ledger(app: Flask) -> TrustedLedger:
    """What every verification of ``app`` reads the chain with, opened afresh."""
    open_ledger(trace_of(app).ledger).forget_check()
    with app.app_context(), Session(trace_of(app).engine) as session:
        return open_reader(session, trace_of(app).ledger)


def kinds(ledger: TrustedLedger) -> list[ProblemKind]:
    return [p.kind for p in ledger.problems]


def health(client: FlaskClient) -> dict[str, Any]:
    return client.get("/api/v1/health").get_json()["ledger"]  # type: ignore[no-any-return]


def test_a_ledger_that_matches_its_trust_anchors_has_no_problem(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = make_device(client, collector, plant)
    anchor(client, plant)

    ledger = trusted_ledger(app)

    assert ledger.problems == () and ledger.problem is None
    assert ledger.chain is not None and ledger.trust is not None
    assert health(client)["status"] == "ok"
    assert verification(client, plant, qr_id)["verified"] is True


def test_a_database_naming_another_registry_is_a_database_mismatch(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = make_device(client, collector, plant)
    anchor(client, plant)
    trusted = trusted_ledger(app).trust
    assert trusted is not None
    with trace_of(app).engine.begin() as conn:
        conn.execute(update(META).where(META.c.key == "contract").values(value=NO_CODE))

    ledger = trusted_ledger(app)

    assert kinds(ledger) == [ProblemKind.DATABASE_MISMATCH]
    assert ledger.problems[0].differences == (f"registry {NO_CODE} instead of {trusted.registry}",)
    assert ledger.problem == (
        f"registry mismatch: the database (ledger_meta) names registry {NO_CODE} instead of "
        f"{trusted.registry} — it was changed or points at another ledger; the trust anchors "
        "are not obeyed from it"
    )
    assert health(client)["status"] == "untrusted"
    assert health(client)["problem"] == ledger.problem
    assert ledger.problem in verification(client, plant, qr_id)["ledger_problem"]


def test_a_registry_without_code_is_registry_missing_and_reported_as_a_reset(
    settings: dict[str, Any], anvil_node: ManagedNode
) -> None:
    with configured_app(settings, **chain_anchors(anvil_node, NO_CODE)) as app:
        ledger = trusted_ledger(app)

        assert kinds(ledger) == [ProblemKind.REGISTRY_MISSING]
        assert ledger.problem is not None
        assert ledger.problem.startswith(
            f"no AnchorRegistry code at the trusted registry {NO_CODE}"
        )
        assert health(app.test_client())["status"] == "chain_reset"


def test_a_registry_of_another_owner_is_untrusted(
    settings: dict[str, Any], anvil_node: ManagedNode
) -> None:
    other = Web3Ledger.from_rpc(anvil_node.url, private_key=OTHER_KEY, contract_address=None)
    registry = other.deploy_registry()
    with configured_app(settings, **chain_anchors(anvil_node, registry)) as app:
        ledger = trusted_ledger(app)

        assert kinds(ledger) == [ProblemKind.UNTRUSTED]
        assert ledger.problem == (
            f"registry mismatch: the registry {registry} is owned by {other.address}, not by "
            f"the trusted owner {ledger.trust.owner if ledger.trust else None}"
        )
        assert health(app.test_client())["status"] == "untrusted"


def test_trust_anchors_configured_in_part_are_trust_missing(
    settings: dict[str, Any], anvil_node: ManagedNode
) -> None:
    partial = {**chain_anchors(anvil_node, NO_CODE), "ledger_chain_id": None}
    with configured_app(settings, **partial) as app:
        ledger = trusted_ledger(app)

        assert kinds(ledger) == [ProblemKind.TRUST_MISSING]
        assert ledger.chain is None and ledger.trust is None
        assert ledger.problem is not None and "TRACE_LEDGER_CHAIN_ID" in ledger.problem
        assert health(app.test_client())["status"] == "untrusted"


def test_a_problem_whose_words_say_reset_is_not_a_reset_unless_the_chain_was(
    settings: dict[str, Any], tmp_path: Path
) -> None:
    # An unreadable trust file in a directory whose name says "reset": its message
    # names the path, but nothing about the chain was reset.
    data_dir = tmp_path / "after-reset"
    data_dir.mkdir()
    (data_dir / "trust.json").write_text("not json\n", encoding="utf-8")
    with configured_app(settings, data_dir=data_dir) as app:
        ledger = trusted_ledger(app)

        assert kinds(ledger) == [ProblemKind.TRUST_MISSING]
        assert ledger.problem is not None and "reset" in ledger.problem
        assert not ledger.is_reset
        status = health(app.test_client())
        assert status["status"] == "untrusted"
        assert status["problem"] == ledger.problem


def test_a_node_that_does_not_answer_is_unavailable_and_nothing_verifies(
    settings: dict[str, Any], client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = make_device(client, collector, plant)
    with configured_app(settings, ledger_url="http://127.0.0.1:9") as app:
        ledger = trusted_ledger(app)

        assert kinds(ledger) == [ProblemKind.UNAVAILABLE] and ledger.is_unavailable
        assert ledger.problem is not None and ledger.problem.startswith("ledger unavailable: ")
        detail = app.test_client().get(f"/api/v1/devices/{qr_id}", headers=plant.headers)
        assert detail.get_json()["verification"] == "unknown"
        assert detail.get_json()["verification_problem"] == ledger.problem


class TestChainReset:
    """The node loses its chain: a chain reset, whatever else is wrong too."""

    @pytest.fixture
    def ledger_node(self, private_node: ManagedNode) -> ManagedNode:
        return private_node

    def reset(self, node: ManagedNode, *, genesis_time: int | None = None) -> None:
        """The node's state is deleted; with ``genesis_time`` its genesis block is too, and
        the node serves another chain."""
        node.stop()
        node.state_path.unlink()
        if genesis_time is not None:
            (node.data_dir / "anvil-genesis-timestamp").unlink()
            node.genesis_time = genesis_time
        node.start()

    def test_a_reset_chain_has_lost_its_registry(
        self,
        app: Flask,
        client: FlaskClient,
        collector: Actor,
        plant: Actor,
        ledger_node: ManagedNode,
    ) -> None:
        make_device(client, collector, plant)
        anchor(client, plant)
        self.reset(ledger_node)

        ledger = trusted_ledger(app)

        assert kinds(ledger) == [ProblemKind.REGISTRY_MISSING] and ledger.is_reset
        assert ledger.problem is not None and "the chain was reset" in ledger.problem
        assert health(client)["status"] == "chain_reset"

        # The database names another registry as well: still, above all, a reset.
        with trace_of(app).engine.begin() as conn:
            conn.execute(update(META).where(META.c.key == "contract").values(value=NO_CODE))
        both = trusted_ledger(app)
        assert kinds(both) == [ProblemKind.DATABASE_MISMATCH, ProblemKind.REGISTRY_MISSING]
        assert health(client)["status"] == "chain_reset"

    def test_a_node_serving_another_chain_is_a_chain_reset(
        self,
        app: Flask,
        client: FlaskClient,
        collector: Actor,
        plant: Actor,
        ledger_node: ManagedNode,
    ) -> None:
        make_device(client, collector, plant)
        anchor(client, plant)
        self.reset(ledger_node, genesis_time=1_700_000_000)  # another genesis block

        ledger = trusted_ledger(app)

        assert kinds(ledger) == [ProblemKind.CHAIN_RESET] and ledger.is_reset
        assert ledger.problem is not None and "it was reset or replaced" in ledger.problem
        status = health(client)
        assert status["status"] == "chain_reset" and status["problem"] == ledger.problem
