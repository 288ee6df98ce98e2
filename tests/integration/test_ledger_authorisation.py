"""The regulator authorises and revokes plants' submitters; a plant configures only the trust
file (issue 21, item 5). Two deployments of their own (the regulator's, the plant's) on one
anvil: what `ledger authorize` and `ledger revoke` do on chain, in the register and to what
every verifier accepts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from eth_account import Account
from sqlalchemy import select
from sqlmodel import Session

from ledger.chain import Web3Ledger
from ledger.node import DEV_KEYS, ManagedNode
from tests.support.databases import default_settings, fresh_database
from traceability.cli import main
from traceability.config import Settings
from traceability.context import Trace, build_trace
from traceability.custody.models import Event
from traceability.register.log import register_of

pytestmark = pytest.mark.integration

OWNER_KEY, PLANT_KEY, OTHER_KEY = DEV_KEYS["anvil"][:3]


class World:
    """The regulator's instance (owner key only) and a plant's (its submitter key)."""

    def __init__(self, tmp_path: Path, node: ManagedNode, stack: ExitStack) -> None:
        self.tmp, self.node, self.stack = tmp_path, node, stack
        self.chain = Web3Ledger.from_rpc(node.url, private_key=None, contract_address=None)
        self.plant_address = self.chain.with_key(PLANT_KEY).address
        self.regulator = self._trace("regulator", ledger_owner_key=OWNER_KEY)
        self.urls: dict[str, str] = {}

    def _trace(self, name: str, **ledger: Any) -> Trace:
        directory = self.tmp / name
        directory.mkdir(exist_ok=True)
        if name not in getattr(self, "urls", {}):
            url = self.stack.enter_context(fresh_database(directory))
            self.urls = {**getattr(self, "urls", {}), name: url}
        base = default_settings(self.urls[name], directory)
        settings = Settings(**{**base, "ledger_mode": "rpc", "ledger_url": self.node.url, **ledger})
        trace = build_trace(settings)
        self.stack.callback(trace.engine.dispose)
        return trace

    def plant(self, trust_file: Path, key: str = PLANT_KEY, **ledger: Any) -> Trace:
        """The plant's deployment as it starts with ``trust_file`` (a fresh process)."""
        return self._trace("plant", ledger_key=key, ledger_trust_file=trust_file, **ledger)

    def published(self, name: str) -> Path:
        return self.tmp / f"{name}.json"


@pytest.fixture
def world(tmp_path: Path, anvil_node: ManagedNode) -> Iterator[World]:
    with ExitStack() as stack:
        yield World(tmp_path, anvil_node, stack)


def invoke(trace: Trace, *args: str) -> Result:
    return CliRunner().invoke(
        main,
        list(args),
        obj=trace,
        catch_exceptions=False,
    )


def ok(trace: Trace, *args: str) -> Result:
    done = invoke(trace, *args)
    assert done.exit_code == 0, done.output
    return done


def read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def register_events(trace: Trace, code: str) -> list[tuple[str, dict[str, Any]]]:
    with Session(trace.engine) as session:
        rows = session.execute(
            select(Event.type, Event.payload).where(Event.organisation == code).order_by(Event.seq)
        )
        return [(kind, payload) for kind, payload in rows]


def add_org(trace: Trace, code: str, kind: str = "dismantler") -> None:
    licence = ["--license", f"苏环废电证第{code[-2:]}号"] if kind == "dismantler" else []
    ok(trace, "orgs", "add", code, "--kind", kind, "--name", f"{code} 厂", "--region", "320500",
       *licence)  # fmt: skip


def deployed_and_authorised(world: World) -> Path:
    """The regulator deploys, registers the plant and authorises its address: trust file 1."""
    ok(world.regulator, "ledger", "deploy", "--out", str(world.published("t0")))
    add_org(world.regulator, "DIS-SZ01")
    t1 = world.published("t1")
    ok(world.regulator, "ledger", "authorize", world.plant_address, "--org", "DIS-SZ01",
       "--out", str(t1))  # fmt: skip
    return t1


def test_a_plant_configured_by_the_published_file_anchors_once_authorised(world: World) -> None:
    ok(world.regulator, "ledger", "deploy", "--out", str(world.published("t0")))
    add_org(world.regulator, "DIS-SZ01")
    not_yet = world.plant(world.published("t0"))
    init = ok(not_yet, "init")  # the file lists no submitter yet: the plant is told why
    assert "ledger NOT ready" in init.output and "not among the accepted submitters" in init.output
    assert f"traceability ledger authorize {world.plant_address}" in init.output

    t1 = world.published("t1")
    done = ok(world.regulator, "ledger", "authorize", world.plant_address.lower(),
              "--org", "DIS-SZ01", "--out", str(t1))  # fmt: skip

    assert f"{world.plant_address} authorised for DIS-SZ01 (tx 0x" in done.output
    trust = read(t1)
    assert trust["submitters"] == [world.plant_address]
    assert trust["registry"] == read(world.published("t0"))["registry"]
    assert world.chain.at_address(trust["registry"]).is_submitter(world.plant_address)
    plant = world.plant(t1)
    assert f"ledger ready: registry {trust['registry']}" in ok(plant, "init").output
    add_org(plant, "COL-1", "collector")  # an event of the plant's own register
    assert ok(plant, "anchor").output.startswith("anchored 1 events in 1 batch(es)")
    assert ok(plant, "verify", "--all").output.strip().endswith("ALL VERIFIED")
    # a verifier holding the file from before the authorisation does not accept the anchor
    stale = invoke(world.plant(world.published("t0")), "verify", "--all")
    assert stale.exit_code == 1 and "untrusted" in stale.output


def test_the_authorisation_is_an_event_of_the_organisation_register(world: World) -> None:
    t1 = deployed_and_authorised(world)

    with Session(world.regulator.engine) as session:
        facts = register_of(session, ["DIS-SZ01"])["DIS-SZ01"]
    assert facts.submitter == world.plant_address and not facts.mismatch
    kinds = [kind for kind, _ in register_events(world.regulator, "DIS-SZ01")]
    assert kinds == ["org_registered", "submitter_grant"]
    payload = register_events(world.regulator, "DIS-SZ01")[-1][1]
    assert payload["submitter"] == world.plant_address
    assert payload["registry"] == read(t1)["registry"]
    receipt = world.chain.get_receipt(payload["tx"])
    assert receipt is not None and receipt.status and receipt.block_number == payload["block"]

    again = ok(world.regulator, "ledger", "authorize", world.plant_address, "--org", "DIS-SZ01")
    assert "already authorised for DIS-SZ01" in again.output
    assert len(register_events(world.regulator, "DIS-SZ01")) == 2  # nothing recorded twice
    # the regulator's own `verify --all` checks the register events it recorded
    assert "tampered" not in invoke(world.regulator, "verify", "--all").output


def test_revocation_stops_anchoring_and_later_anchors_fail_verification(world: World) -> None:
    t1 = deployed_and_authorised(world)
    plant = world.plant(t1)
    ok(plant, "init")
    add_org(plant, "COL-1", "collector")
    ok(plant, "anchor")

    t2 = world.published("t2")
    done = ok(world.regulator, "ledger", "revoke", world.plant_address, "--out", str(t2))

    revoked_in = read(t2)["revoked"][world.plant_address]
    assert f"revoked in block {revoked_in} (the submitter of DIS-SZ01" in done.output
    assert read(t2)["submitters"] == [world.plant_address]  # its earlier anchors still count
    assert not world.chain.at_address(read(t2)["registry"]).is_submitter(world.plant_address)
    with Session(world.regulator.engine) as session:
        assert register_of(session, ["DIS-SZ01"])["DIS-SZ01"].submitter is None
    assert register_events(world.regulator, "DIS-SZ01")[-1][0] == "submitter_revoke"

    add_org(plant, "COL-2", "collector")
    refused = invoke(world.plant(t2), "anchor")  # the plant with the new file is told why
    assert refused.exit_code == 1 and f"was revoked in block {revoked_in}" in refused.output
    ignoring = invoke(world.plant(t1), "anchor")  # one keeping the old file: the chain refuses
    assert ignoring.exit_code == 1 and "NotSubmitter" in ignoring.output
    assert "the regulator authorises its address" in ignoring.output
    after = invoke(world.plant(t2), "verify", "--all")
    assert "events: pending 1, verified 1" in after.output  # the earlier anchor still counts

    # authorised again, the plant anchors COL-2; a verifier holding the revocation's file
    # refuses that anchor (made after the revocation), one holding the new file accepts it
    t3 = world.published("t3")
    ok(world.regulator, "ledger", "authorize", world.plant_address, "--org", "DIS-SZ01",
       "--out", str(t3))  # fmt: skip
    assert "revoked" not in read(t3)
    assert ok(world.plant(t3), "anchor").output.startswith("anchored 1 events")
    assert ok(world.plant(t3), "verify", "--all").output.strip().endswith("ALL VERIFIED")
    late = invoke(world.plant(t2), "verify", "--all")
    assert late.exit_code == 1
    assert "untrusted" in late.output and "verified 1" in late.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["0x70997970c51812dc3A010C7d01b50e0d17dc79C8", "--org", "DIS-SZ01"],
         "ADDR '0x70997970c51812dc3A010C7d01b50e0d17dc79C8' has a wrong EIP-55 checksum"),
        (["0x70997970C51812dc3A010C7d01b50e0d17dc79C", "--org", "DIS-SZ01"], "not 39 (address)"),
        (["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "--org", "NOPE"],
         "no organisation NOPE in the register: add it first"),
    ],
)  # fmt: skip
def test_authorize_refuses_bad_input_by_name_before_sending(
    world: World, args: list[str], words: str
) -> None:
    ok(world.regulator, "ledger", "deploy")
    add_org(world.regulator, "DIS-SZ01")
    nonce = world.chain.with_key(OWNER_KEY).pending_nonce()

    done = invoke(world.regulator, "ledger", "authorize", *args)

    assert done.exit_code == 1 and words in done.output
    assert world.chain.with_key(OWNER_KEY).pending_nonce() == nonce


def test_authorize_says_what_must_come_first(world: World) -> None:
    fresh = invoke(world.regulator, "orgs", "add", "DIS-SZ01", "--kind", "collector",
                   "--name", "x", "--region", "320500")  # fmt: skip
    assert fresh.exit_code == 1 and "no tables yet: run `traceability init` first" in fresh.output
    ok(world.regulator, "init")
    add_org(world.regulator, "DIS-SZ01")

    before_deploy = invoke(world.regulator, "ledger", "authorize", world.plant_address,
                           "--org", "DIS-SZ01")  # fmt: skip
    assert before_deploy.exit_code == 1
    assert "run `traceability ledger deploy` first" in before_deploy.output

    t1 = world.published("t1")
    ok(world.regulator, "ledger", "deploy")
    ok(world.regulator, "ledger", "authorize", world.plant_address, "--org", "DIS-SZ01",
       "--out", str(t1))  # fmt: skip
    other = world.chain.with_key(OTHER_KEY).address
    add_org(world.regulator, "DIS-SZ02")
    taken = invoke(world.regulator, "ledger", "authorize", world.plant_address,
                   "--org", "DIS-SZ02")  # fmt: skip
    assert taken.exit_code == 1 and "is the submitter of DIS-SZ01: revoke it first" in taken.output
    second = invoke(world.regulator, "ledger", "authorize", other, "--org", "DIS-SZ01")
    assert second.exit_code == 1
    assert f"DIS-SZ01 anchors with {world.plant_address}: revoke it first" in second.output
    unfunded = Account.from_key("0x" + "22" * 32).address
    warned = ok(world.regulator, "ledger", "authorize", unfunded, "--org", "DIS-SZ02")
    assert f"warning: {unfunded} holds no ether: it cannot pay for anchors" in warned.output
    on_plant = invoke(world.plant(t1), "ledger", "authorize", other, "--org", "DIS-SZ01")
    assert on_plant.exit_code == 1 and "on the regulator's instance" in on_plant.output


def test_trust_file_and_variables_must_agree(world: World) -> None:
    t1 = deployed_and_authorised(world)
    other = world.chain.with_key(OTHER_KEY).address

    conflicting = world.plant(t1, ledger_contract=other)
    init = ok(conflicting, "init")
    assert "ledger NOT ready" in init.output
    assert f"TRACE_LEDGER_CONTRACT={other} but the trust file says" in init.output
    assert "ledger not trusted" in invoke(conflicting, "verify", "--all").output

    agreeing = world.plant(t1, ledger_contract=read(t1)["registry"].lower())
    assert "ledger ready" in ok(agreeing, "init").output
    # TRACE_LEDGER_SUBMITTERS replaces the file's list (as ledger.verify --submitter does)
    narrowed = world.plant(t1, ledger_submitters=other)
    refused = ok(narrowed, "init")
    assert "not among the accepted submitters" in refused.output


def test_deploy_is_refused_where_the_trust_file_is_configured(world: World) -> None:
    t1 = deployed_and_authorised(world)
    nonce = world.chain.with_key(OWNER_KEY).pending_nonce()

    done = invoke(world.plant(t1, ledger_owner_key=OWNER_KEY), "ledger", "deploy")

    assert done.exit_code == 1
    assert "the trusted registry is configured (TRACE_LEDGER_TRUST_FILE=" in done.output
    assert world.chain.with_key(OWNER_KEY).pending_nonce() == nonce
