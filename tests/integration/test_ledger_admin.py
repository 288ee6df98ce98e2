"""The regulator sets up `rpc` mode from the console script on a real anvil (issue 21,
item 5): deploy on a fresh directory, in either order with `init`, without the plant's key,
the trust file printed once, malformed keys and addresses refused by name.

Each command sees only the ``TRACE_*`` variables given, the way the issue's report tried
it. Deploying on a fresh directory, `init` then deploy, and a malformed key run each
command as a real process (`python -m traceability.cli`), so a traceback, a doubled print
or a key written to the log by the console script itself would show there; the others run
the same command in this process (click's runner, stdout and stderr apart), as a process
start costs more than the command does (3 s of imports each).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from ledger.chain import Web3Ledger
from ledger.node import DEV_KEYS, ManagedNode
from tests.support.databases import fresh_database
from traceability.cli import main
from traceability.context import Trace

pytestmark = pytest.mark.integration

OWNER_KEY, PLANT_KEY = DEV_KEYS["anvil"][0], DEV_KEYS["anvil"][1]


class ClosingContext(click.Context):
    """The root command's context, closing the database the command opened as the process
    exit would (an engine left open in this process warns, and the suite fails on it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.parent is None:
            self.call_on_close(self._dispose)

    def _dispose(self) -> None:
        if isinstance(self.obj, Trace):
            self.obj.engine.dispose()


class Deployment:
    """A data directory and database of its own, run as a separate process per command."""

    def __init__(self, directory: Path, database_url: str, node: ManagedNode) -> None:
        self.env = {
            "TRACE_ENV": "test",
            "TRACE_DATA_DIR": str(directory),
            "TRACE_DATABASE_URL": database_url,
            "TRACE_LEDGER_MODE": "rpc",
            "TRACE_LEDGER_URL": node.url,
        }
        self.directory = directory

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("TRACE_")}
        return subprocess.run(
            [sys.executable, "-m", "traceability.cli", *args],
            env={**clean, **self.env, **env},
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def invoke(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """The same command in this process: what it printed to each stream, its exit code."""
        clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("TRACE_")}
        result = CliRunner().invoke(
            main, list(args), env={**clean, **self.env, **env}, catch_exceptions=False
        )
        return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def deployment(
    tmp_path: Path, anvil_node: ManagedNode, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Deployment]:
    """A fresh directory: no database tables yet, no trust file."""
    monkeypatch.setattr(main, "context_class", ClosingContext)
    directory = tmp_path / "instance"
    directory.mkdir()
    with fresh_database(directory) as url:
        yield Deployment(directory, url, anvil_node)


@pytest.fixture
def chain(anvil_node: ManagedNode) -> Web3Ledger:
    return Web3Ledger.from_rpc(anvil_node.url, private_key=None, contract_address=None)


def owner_nonce(chain: Web3Ledger) -> int:
    """Transactions the owner (the regulator's key) ever sent: one per deploy or grant."""
    return chain.with_key(OWNER_KEY).pending_nonce()


def assert_clean(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr, done.stderr


def test_deploy_on_a_fresh_directory_needs_no_init_and_prints_the_trust_file_once(
    deployment: Deployment, chain: Web3Ledger
) -> None:
    before = owner_nonce(chain)

    done = deployment.run("ledger", "deploy", TRACE_LEDGER_OWNER_KEY=OWNER_KEY)

    assert_clean(done)
    assert done.returncode == 0, done.stderr  # was: no such table: ledger_meta
    trust = json.loads(done.stdout)  # stdout is the trust file and nothing else
    assert (done.stdout + done.stderr).count('"format"') == 1  # printed once, not logged again
    assert f"registry deployed at {trust['registry']}" in done.stderr
    registry = chain.at_address(trust["registry"])
    assert registry.contract_code_matches()
    assert trust["owner"] == registry.owner() == chain.with_key(OWNER_KEY).address
    assert trust["submitters"] == []  # the regulator holds no plant's key: nobody authorised
    assert owner_nonce(chain) == before + 1  # one transaction: the deployment
    recorded = json.loads((deployment.directory / "trust.json").read_text(encoding="utf-8"))
    assert recorded == trust


def test_deploy_writes_the_trust_file_with_out_and_prints_nothing_else(
    deployment: Deployment, tmp_path: Path
) -> None:
    out = tmp_path / "published" / "trust.json"

    done = deployment.invoke(
        "ledger", "deploy", "--out", str(out), TRACE_LEDGER_OWNER_KEY=OWNER_KEY
    )

    assert_clean(done)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert f"trust file written to {out}" in done.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["format"] == "weee-trace-trust/1"


def test_init_then_deploy_without_the_plants_key_deploys_one_registry(
    deployment: Deployment, chain: Web3Ledger
) -> None:
    before = owner_nonce(chain)

    init = deployment.run("init", TRACE_LEDGER_OWNER_KEY=OWNER_KEY)

    assert_clean(init)  # was: ValueError: Unknown format '' after deploying a registry
    assert init.returncode == 0, init.stderr
    assert "ledger NOT ready: no registry yet" in init.stderr
    assert "`traceability ledger deploy`" in init.stderr
    assert owner_nonce(chain) == before  # init deployed nothing

    deploy = deployment.run("ledger", "deploy", TRACE_LEDGER_OWNER_KEY=OWNER_KEY)
    assert_clean(deploy)
    assert deploy.returncode == 0, deploy.stderr
    assert owner_nonce(chain) == before + 1  # one registry, no failed grant after it

    again = deployment.run("init", TRACE_LEDGER_OWNER_KEY=OWNER_KEY)
    registry = json.loads(deploy.stdout)["registry"]
    assert again.returncode == 0 and f"ledger ready: registry {registry}" in again.stdout


def test_deploy_then_init_adopts_the_registry_and_deploy_again_reports_it(
    deployment: Deployment, chain: Web3Ledger
) -> None:
    deploy = deployment.invoke("ledger", "deploy", TRACE_LEDGER_OWNER_KEY=OWNER_KEY)
    registry = json.loads(deploy.stdout)["registry"]
    before = owner_nonce(chain)

    init = deployment.invoke("init", TRACE_LEDGER_OWNER_KEY=OWNER_KEY)
    again = deployment.invoke("ledger", "deploy", TRACE_LEDGER_OWNER_KEY=OWNER_KEY)

    assert init.returncode == 0 and f"ledger ready: registry {registry}" in init.stdout
    assert again.returncode == 0, again.stderr
    assert f"registry already deployed at {registry}" in again.stderr
    assert json.loads(again.stdout)["registry"] == registry
    assert owner_nonce(chain) == before  # neither deployed a second registry

    replaced = deployment.invoke("ledger", "deploy", "--replace", TRACE_LEDGER_OWNER_KEY=OWNER_KEY)
    assert replaced.returncode == 0, replaced.stderr
    assert json.loads(replaced.stdout)["registry"] != registry


def test_one_party_holding_both_keys_deploys_once_whichever_command_comes_first(
    deployment: Deployment, chain: Web3Ledger
) -> None:
    keys = {"TRACE_LEDGER_OWNER_KEY": OWNER_KEY, "TRACE_LEDGER_KEY": PLANT_KEY}
    before = owner_nonce(chain)

    init = deployment.invoke("init", **keys)  # a trial on one machine: init sets the chain up
    deploy = deployment.invoke("ledger", "deploy", **keys)

    assert init.returncode == 0 and deploy.returncode == 0, init.stderr + deploy.stderr
    trust = json.loads(deploy.stdout)
    assert f"ledger ready: registry {trust['registry']}" in init.stdout
    assert "registry already deployed" in deploy.stderr
    assert trust["submitters"] == [chain.with_key(PLANT_KEY).address]
    assert owner_nonce(chain) == before + 2  # one deployment, one grant: not two registries


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("TRACE_LEDGER_KEY", PLANT_KEY[:-1], "must be 64 hexadecimal digits (0x optional), not 63"),
        ("TRACE_LEDGER_OWNER_KEY", "0x" + "zz" * 32, "must be hexadecimal digits"),
        (
            "TRACE_LEDGER_SUBMITTERS",
            "0x70997970c51812dc3A010C7d01b50e0d17dc79C8",
            "wrong EIP-55 checksum",
        ),
        ("TRACE_LEDGER_REGISTRY_OWNER", "0x70997970C51812dc3A010C7d01b50e0d17dc79C", "not 39"),
    ],
)
def test_malformed_keys_and_addresses_are_refused_naming_the_variable(
    deployment: Deployment, chain: Web3Ledger, variable: str, value: str, words: str
) -> None:
    before = owner_nonce(chain)
    env = {"TRACE_LEDGER_OWNER_KEY": OWNER_KEY, "TRACE_LEDGER_KEY": PLANT_KEY, variable: value}

    # a key as a real process: nothing it logs anywhere echoes it
    command = deployment.run if variable.endswith("_KEY") else deployment.invoke
    done = command("ledger", "deploy", **env)

    assert_clean(done)
    assert done.returncode == 1
    assert f"Error: {variable}" in done.stderr and words in done.stderr
    if variable.endswith("_KEY"):
        assert value.removeprefix("0x")[:20] not in done.stderr  # a key is never echoed
    assert owner_nonce(chain) == before  # a 63-digit key no longer authorises anything


def test_a_bare_submitter_address_is_taken_as_one_submitter(
    deployment: Deployment, chain: Web3Ledger
) -> None:
    plant = chain.with_key(PLANT_KEY).address
    keys = {"TRACE_LEDGER_OWNER_KEY": OWNER_KEY, "TRACE_LEDGER_KEY": PLANT_KEY}

    done = deployment.invoke("ledger", "deploy", TRACE_LEDGER_SUBMITTERS=plant.lower(), **keys)

    assert_clean(done)  # was: a traceback (a JSON list was required)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["submitters"] == [plant]


def test_deploy_refuses_the_owner_key_as_the_plants_before_sending_anything(
    deployment: Deployment, chain: Web3Ledger
) -> None:
    before = owner_nonce(chain)

    done = deployment.invoke(
        "ledger", "deploy", TRACE_LEDGER_OWNER_KEY=OWNER_KEY, TRACE_LEDGER_KEY=OWNER_KEY
    )

    assert_clean(done)
    assert done.returncode == 1
    assert "TRACE_LEDGER_KEY is the owner's key" in done.stderr
    assert owner_nonce(chain) == before  # no registry left behind unused


def test_deploy_refuses_an_owner_that_cannot_pay(deployment: Deployment) -> None:
    unfunded = "0x" + "11" * 32

    done = deployment.invoke("ledger", "deploy", TRACE_LEDGER_OWNER_KEY=unfunded)

    assert_clean(done)
    assert done.returncode == 1
    assert "holds no ether on this chain" in done.stderr
    assert not (deployment.directory / "trust.json").exists()
