"""Which chain the app anchors to, and what it trusts about it (SPEC §3, trust anchors).

The trust anchors — chain id, genesis hash, registry address, registry owner
and the accepted submitters — come from configuration in ``rpc`` mode (the
regulator's published file, ``TRACE_LEDGER_TRUST_FILE``, or
``TRACE_LEDGER_CONTRACT`` and friends) or, where this deployment deployed the
registry itself (managed node, in-process chain, the regulator's own instance
after ``traceability ledger deploy``), from ``data_dir/trust.json``, written at
deploy and by ``ledger authorize|revoke``. Never from the database:
``ledger_meta`` is a cache that is compared with them, and a difference stops
anchoring and fails every verification.

Who deploys: ``traceability ledger deploy`` with the owner's key (checked
before any transaction: ``_deployer``); on first use only a deployment holding
both keys (the managed node, a one-machine trial) deploys by itself — a
regulator's instance or a plant is told which command comes first.

Every start checks the chain against them: a reset chain is reported loudly
and ``traceability anchor --repair`` re-anchors everything from the database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ledger.chain import Web3Ledger
from ledger.errors import ChainMismatch, ContractMissing, LedgerError, TrustMismatch, TrustMissing
from ledger.interface import Ledger
from ledger.node import ANVIL_DEV_KEYS, ManagedNode
from ledger.redact import redact_url
from ledger.verify import DEFAULT_MAX_ANCHOR_DELAY_S, TrustAnchors
from traceability.anchoring.models import LedgerMeta
from traceability.anchoring.trust import LedgerProblem, TrustedLedger
from traceability.config import Settings
from traceability.db import begin_write, utcnow

log = logging.getLogger(__name__)

#: How long a reader reuses the chain half of the trust check (genesis, code, owner).
TRUST_CHECK_CACHE_S = 30.0
TRUST_FILE = "trust.json"
#: What a chain that lost the anchors' problems can be cured by.
REPAIR_HINT = "Run `traceability anchor --repair` to re-anchor every batch."


@dataclass
class LedgerHandle:
    """The submitter's client, the owner's where this deployment holds that key,
    a reader with short timeouts for web requests, and the trust anchors."""

    submitter: Ledger
    owner: Ledger | None
    settings: Settings | None = None
    reader: Ledger | None = None
    trust: TrustAnchors | None = None
    # The reader's cached chain check: (monotonic time, problem or None).
    checked: tuple[float, LedgerProblem | None] | None = field(default=None, repr=False)

    def point_at(self, registry: str) -> None:
        if self.submitter.contract_address != registry:
            self.submitter = self.submitter.at_address(registry)
        if self.owner is not None and self.owner.contract_address != registry:
            self.owner = self.owner.at_address(registry)
        if self.reader is not None and self.reader.contract_address != registry:
            self.reader = self.reader.at_address(registry)

    def forget_check(self) -> None:
        self.checked = None


def read_meta(session: Session) -> dict[str, str]:
    return {m.key: m.value for m in session.exec(select(LedgerMeta))}


def write_meta(session: Session, values: dict[str, str]) -> None:
    begin_write(session)
    for key, value in values.items():
        row = session.get(LedgerMeta, key) or LedgerMeta(key=key, value=value)
        row.value = value
        session.add(row)
    session.commit()


@dataclass(eq=False)
class LedgerSource:
    """The deployment's ledger, as its context (``traceability.context.Trace``) holds it:
    the settings that name it and its clients, opened on first use and kept as long
    as the context (an in-process chain lives that long)."""

    settings: Settings
    opened: LedgerHandle | None = field(default=None, repr=False)


def open_ledger(source: LedgerSource) -> LedgerHandle:
    """The deployment's ledger clients (opened once per ``source``)."""
    if source.opened is not None:
        return source.opened
    settings = source.settings
    if settings.ledger_mode == "off":
        raise LedgerError("the ledger is switched off (TRACE_LEDGER_MODE=off)")
    owner: Ledger | None
    owner_key: str | None
    submitter_key: str | None
    if settings.ledger_mode == "memory":
        owner = Web3Ledger.in_process(account_index=0)
        submitter = owner.with_key(_eth_tester_key(1))
        reader = submitter
    else:
        url = settings.ledger_url or f"http://127.0.0.1:{settings.ledger_port}"
        if settings.ledger_mode == "managed":
            owner_key, submitter_key = ANVIL_DEV_KEYS[0], ANVIL_DEV_KEYS[1]
        else:
            owner_key, submitter_key = settings.ledger_owner_key, settings.ledger_key
        contract = settings.ledger_contract
        patience = settings.ledger_worker_timeout_s
        submitter = Web3Ledger.from_rpc(
            url, private_key=submitter_key, contract_address=contract, timeout=patience
        )
        owner = (
            Web3Ledger.from_rpc(
                url, private_key=owner_key, contract_address=contract, timeout=patience
            )
            if owner_key
            else None
        )
        reader = Web3Ledger.from_rpc(
            url,
            private_key=None,
            contract_address=contract,
            timeout=settings.ledger_request_timeout_s,
        )
    handle = LedgerHandle(submitter=submitter, owner=owner, settings=settings, reader=reader)
    source.opened = handle
    return handle


def _eth_tester_key(index: int) -> str:
    from ledger.chain import eth_tester_keys

    return eth_tester_keys()[index]


# -- trust anchors -------------------------------------------------------------


def trust_path(settings: Settings) -> Path:
    return settings.data_dir / TRUST_FILE


def trust_from_settings(settings: Settings) -> bool:
    """In rpc mode with a published trust file or a configured registry, configuration alone
    names what is trusted."""
    return settings.ledger_mode == "rpc" and bool(
        settings.ledger_trust_file or settings.ledger_contract
    )


def _accepted(settings: Settings | None, recorded: tuple[str, ...], own: str) -> tuple[str, ...]:
    if settings is not None and settings.ledger_submitters:
        return tuple(settings.ledger_submitters)
    if recorded:
        return recorded
    return (own,) if own else ()


def configured_trust(handle: LedgerHandle) -> TrustAnchors | None:
    """The trust anchors from configuration or the trust file; None if none are recorded yet."""
    settings = handle.settings
    if settings is None:
        return handle.trust
    own = handle.submitter.address
    if settings.ledger_mode == "rpc" and settings.ledger_trust_file is not None:
        return published_trust(settings)
    if trust_from_settings(settings):
        missing = [
            f"TRACE_{name.upper()}"
            for name in ("ledger_chain_id", "ledger_genesis_hash", "ledger_registry_owner")
            if getattr(settings, name) in (None, "")
        ]
        if missing:
            raise TrustMissing(
                f"TRACE_LEDGER_CONTRACT is set but {', '.join(missing)} are not: the trust "
                "anchors of an rpc ledger come from configuration (the regulator publishes them)"
            )
        try:
            return TrustAnchors(
                registry=str(settings.ledger_contract),
                chain_id=settings.ledger_chain_id,
                genesis_hash=settings.ledger_genesis_hash,
                owner=settings.ledger_registry_owner,
                submitters=_accepted(settings, (), own),
            )
        except ValueError as exc:
            raise TrustMissing(f"the configured trust anchors are invalid: {exc}") from exc
    path = trust_path(settings)
    if not path.exists():
        return None
    try:
        recorded = TrustAnchors.read(path)
    except (OSError, ValueError) as exc:
        raise TrustMissing(f"cannot read the trust file {path}: {exc}") from exc
    return recorded.with_submitters(_accepted(settings, recorded.submitters, own))


#: The variables a published trust file replaces, and the trust anchors' value each names.
_TRUST_VARIABLES = (
    ("ledger_contract", "registry"),
    ("ledger_chain_id", "chain_id"),
    ("ledger_genesis_hash", "genesis_hash"),
    ("ledger_registry_owner", "owner"),
)


def published_trust(settings: Settings) -> TrustAnchors:
    """The trust file the regulator published (TRACE_LEDGER_TRUST_FILE).

    A variable set beside it must name the same value, or nothing is trusted:
    neither wins, since one of them is out of date. TRACE_LEDGER_SUBMITTERS,
    where set, replaces the file's submitters (as ``ledger.verify --submitter``
    does); its revocations still apply.
    """
    path = settings.ledger_trust_file
    assert path is not None
    try:
        published = TrustAnchors.read(path)
    except (OSError, ValueError) as exc:
        raise TrustMissing(f"cannot read TRACE_LEDGER_TRUST_FILE {path}: {exc}") from exc
    conflicts = [
        f"TRACE_{name.upper()}={mine} but the trust file says {theirs}"
        for name, key in _TRUST_VARIABLES
        if (mine := getattr(settings, name)) not in (None, "")
        and str(mine).lower() != str(theirs := getattr(published, key)).lower()
    ]
    if conflicts:
        raise TrustMismatch(
            f"TRACE_LEDGER_TRUST_FILE ({path}) and the variables disagree: "
            + "; ".join(conflicts)
            + ". Unset the variables (the trust file replaces them) or fetch the current file."
        )
    if settings.ledger_submitters:
        return published.with_submitters(settings.ledger_submitters)
    return published  # the regulator's list: this deployment's own key is not added to it


def write_trust(path: Path, trust: TrustAnchors) -> str:
    """Write ``trust`` as the file a regulator publishes; its text."""
    text = json.dumps(trust.to_dict(), indent=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    return text


def record_trust(
    handle: LedgerHandle, trust: TrustAnchors, *, why: str, announce: bool = True
) -> None:
    """Write the trust file (the chains this deployment set up) and say so loudly.

    ``announce``: log the anchors (the command line prints them itself instead).
    """
    handle.trust = trust
    handle.forget_check()
    if handle.settings is None:
        return
    path = trust_path(handle.settings)
    text = write_trust(path, trust)
    if announce:
        log.warning("TRUST ANCHORS %s, recorded in %s — publish them:\n%s", why, path, text)
    else:
        log.info("trust anchors %s, recorded in %s", why, path)


def _configured_registry_refused(handle: LedgerHandle) -> None:
    if handle.settings is not None and trust_from_settings(handle.settings):
        where = (
            f"TRACE_LEDGER_TRUST_FILE={handle.settings.ledger_trust_file}"
            if handle.settings.ledger_trust_file
            else f"TRACE_LEDGER_CONTRACT={handle.settings.ledger_contract}"
        )
        raise TrustMismatch(
            f"the trusted registry is configured ({where}): a newly deployed one would not be "
            "trusted. The regulator deploys on its own instance, without these variables."
        )


def _deployer(handle: LedgerHandle) -> Ledger:
    """The owner's client, once everything that would make a deployment useless is ruled out
    (before the first transaction: a refused deploy leaves nothing on chain)."""
    _configured_registry_refused(handle)
    owner = handle.owner
    if owner is None:
        raise LedgerError("deploying needs the registry owner's key (TRACE_LEDGER_OWNER_KEY)")
    own = handle.submitter.address
    if own and own.lower() == owner.address.lower():
        raise LedgerError(
            "TRACE_LEDGER_KEY is the owner's key (TRACE_LEDGER_OWNER_KEY): the registry refuses "
            "an owner that anchors; a plant's submitter key must be a key of its own"
        )
    if owner.balance(owner.address) == 0:
        raise LedgerError(
            f"the owner {owner.address} holds no ether on this chain: it cannot pay for "
            "deploying the registry (is TRACE_LEDGER_OWNER_KEY the regulator's funded key?)"
        )
    return owner


def deploy(session: Session, handle: LedgerHandle, *, announce: bool = True) -> str:
    """Deploy a registry with the owner key, authorise this deployment's submitter where it
    has a key (a regulator's instance has none), record the trust anchors."""
    owner = _deployer(handle)
    replacing = handle.trust or configured_trust(handle)
    address = owner.deploy_registry()
    own = handle.submitter.address
    if own:
        owner.grant_submitter(own)
    handle.point_at(address)
    info = handle.submitter.info()
    trust = TrustAnchors(
        registry=address,
        chain_id=info.chain_id,
        genesis_hash=info.genesis_hash,
        owner=owner.address,
        submitters=_accepted(handle.settings, (), own),
    )
    record_trust(
        handle,
        trust,
        why=(
            f"REPLACED (registry {replacing.registry} → {address})"
            if replacing is not None
            else "recorded at deploy"
        ),
        announce=announce,
    )
    write_meta(session, _meta_of(trust))
    log.info("registry deployed at %s on chain %s", address, info.chain_id)
    return address


def deploy_once(session: Session, handle: LedgerHandle, *, replace: bool) -> tuple[str, bool]:
    """What ``traceability ledger deploy`` leaves: the registry already recorded here while
    it is still on chain and this owner's (unless ``replace``), else a new one.

    Returns its address and whether it was deployed now.
    """
    _configured_registry_refused(handle)
    recorded = None if replace else handle.trust or configured_trust(handle)
    if recorded is not None:
        try:
            check_chain(handle.submitter.at_address(recorded.registry), recorded, repairable=True)
        except (ChainMismatch, ContractMissing):
            recorded = None  # the chain was reset: the recorded registry is gone
    if recorded is None:
        return deploy(session, handle, announce=False), True
    owner = handle.owner.address if handle.owner is not None else None
    if owner is not None and recorded.owner and owner.lower() != recorded.owner.lower():
        raise TrustMismatch(
            f"the registry recorded here ({recorded.registry}) is owned by {recorded.owner}, "
            f"not by TRACE_LEDGER_OWNER_KEY's {owner}: `ledger deploy --replace` deploys one "
            "of this owner's"
        )
    handle.trust = recorded
    handle.point_at(recorded.registry)
    return recorded.registry, False


def _meta_of(trust: TrustAnchors) -> dict[str, str]:
    return {
        "chain_id": str(trust.chain_id),
        "genesis_hash": str(trust.genesis_hash),
        "contract": trust.registry,
    }


#: A deploy lock older than this was left by a process that died mid-deploy.
SETUP_LOCK_STALE_S = 300.0


def _take_setup_lock(session: Session) -> bool:
    """A committed lock row (never a transaction held across the deploy's chain calls)."""
    begin_write(session)
    lock = session.get(LedgerMeta, "setup_lock")
    if lock is not None:
        taken = dt.datetime.fromisoformat(lock.value) if lock.value[:1].isdigit() else None
        if taken is not None and (utcnow() - taken).total_seconds() < SETUP_LOCK_STALE_S:
            session.rollback()
            return False
        session.delete(lock)  # stale: its holder died mid-deploy
        session.flush()
    try:
        session.add(LedgerMeta(key="setup_lock", value=utcnow().isoformat()))
        session.commit()
    except IntegrityError:  # another process took it between our read and insert
        session.rollback()
        return False
    return True


def _release_setup_lock(session: Session) -> None:
    begin_write(session)
    lock = session.get(LedgerMeta, "setup_lock")
    if lock is not None:
        session.delete(lock)
    session.commit()


def _set_up_once(session: Session, handle: LedgerHandle) -> TrustAnchors:
    """Deploy the registry (or adopt the recorded one), with a lock row so two workers never
    both deploy."""
    if not _take_setup_lock(session):
        trust = configured_trust(handle)
        if trust is None:
            raise LedgerError("another process is setting up the ledger; try again")
        return trust
    try:
        trust = configured_trust(handle)  # another process may have finished meanwhile
        if trust is None:
            meta = read_meta(session)
            session.rollback()  # end the read: the deploy below talks to the chain
            if meta.get("contract"):
                trust = _adopt(handle, meta)
            else:
                _may_deploy_on_first_use(handle)
                deploy(session, handle)
                trust = handle.trust
    finally:
        session.rollback()
        _release_setup_lock(session)
    assert trust is not None
    return trust


def _may_deploy_on_first_use(handle: LedgerHandle) -> None:
    """On an external chain only a deployment holding both keys (one party: a trial on one
    machine, the tests) deploys by itself; otherwise say which command comes first."""
    settings = handle.settings
    if settings is None or settings.ledger_mode != "rpc":
        return
    if handle.owner is not None and handle.submitter.address:
        return
    if handle.owner is not None:
        raise TrustMissing(
            "no registry yet: the regulator deploys it first with `traceability ledger deploy` "
            "(TRACE_LEDGER_OWNER_KEY), then authorises each plant's submitter"
        )
    raise TrustMissing(
        "no trust anchors: set TRACE_LEDGER_TRUST_FILE to the trust file the regulator "
        "publishes (`traceability ledger deploy --out FILE` on the regulator's instance)"
    )


def _adopt(handle: LedgerHandle, meta: dict[str, str]) -> TrustAnchors:
    """A database from before trust files: record its registry once, where that is safe.

    Only for a chain this deployment runs itself (managed node, in-process),
    whose state is in the same hands as the data directory anyway. On an
    external chain the regulator's values must be configured instead.
    """
    settings = handle.settings
    if settings is not None and settings.ledger_mode == "rpc":
        raise TrustMissing(
            f"no trust anchors: the database names registry {meta['contract']} but nothing in "
            f"the configuration or {trust_path(settings)} does. Set TRACE_LEDGER_CONTRACT, "
            "TRACE_LEDGER_CHAIN_ID, TRACE_LEDGER_GENESIS_HASH and TRACE_LEDGER_REGISTRY_OWNER "
            "to the values the regulator publishes."
        )
    ledger = handle.submitter.at_address(meta["contract"])
    trust = TrustAnchors(
        registry=meta["contract"],
        chain_id=int(meta["chain_id"]),
        genesis_hash=meta["genesis_hash"],
        owner=ledger.owner() if ledger.contract_code_matches() else None,
        submitters=_accepted(settings, (), handle.submitter.address),
    )
    record_trust(handle, trust, why="ADOPTED from the database of an older version")
    return trust


def trusted(session: Session, handle: LedgerHandle) -> TrustAnchors:
    """The trust anchors, setting up the registry on first use where this deployment may."""
    trust = handle.trust or configured_trust(handle)
    if trust is None:
        trust = _set_up_once(session, handle)
    handle.trust = trust
    handle.point_at(trust.registry)
    return trust


def meta_problem(session: Session, trust: TrustAnchors) -> LedgerProblem | None:
    """How the database's cached chain identity differs from the trust anchors (None: it agrees)."""
    meta = read_meta(session)
    differences = []
    if meta.get("contract") and meta["contract"].lower() != trust.registry.lower():
        differences.append(f"registry {meta['contract']} instead of {trust.registry}")
    if meta.get("chain_id") and meta["chain_id"] != str(trust.chain_id):
        differences.append(f"chain {meta['chain_id']} instead of {trust.chain_id}")
    genesis = meta.get("genesis_hash")
    if genesis and trust.genesis_hash and genesis.lower() != trust.genesis_hash:
        differences.append(f"genesis {meta['genesis_hash']} instead of {trust.genesis_hash}")
    return LedgerProblem.database_mismatch(tuple(differences)) if differences else None


def check_chain(ledger: Ledger, trust: TrustAnchors, *, repairable: bool) -> None:
    """Raise ChainMismatch/ContractMissing/TrustMismatch unless ``ledger`` is the trusted chain."""
    hint = f" {REPAIR_HINT}" if repairable else " Check TRACE_LEDGER_URL and the trust anchors."
    info = ledger.info()
    if (trust.chain_id is not None and info.chain_id != trust.chain_id) or (
        trust.genesis_hash and info.genesis_hash.lower() != trust.genesis_hash
    ):
        raise ChainMismatch(
            f"the chain at {redact_url(info.rpc_url)} is not the trusted one "
            f"(chain id {info.chain_id} vs {trust.chain_id}, genesis {info.genesis_hash[:12]}… "
            f"vs {str(trust.genesis_hash)[:12]}…): it was reset or replaced.{hint}"
        )
    if not ledger.contract_code_matches():
        raise ContractMissing(
            f"no AnchorRegistry code at the trusted registry {trust.registry}: "
            f"the chain was reset.{hint}"
        )
    if trust.owner:
        owner = ledger.owner()
        if owner.lower() != trust.owner.lower():
            raise TrustMismatch(
                f"registry mismatch: the registry {trust.registry} is owned by {owner}, "
                f"not by the trusted owner {trust.owner}"
            )


def ensure_ready(session: Session, handle: LedgerHandle) -> None:
    """Check (or, on first use, set up) the trusted chain before anchoring.

    Raises TrustMismatch when the database's record or this submitter differ
    from the trust anchors, ChainMismatch/ContractMissing when the chain was
    reset (repairable where this deployment owns the registry).
    """
    trust = trusted(session, handle)
    problem = meta_problem(session, trust)
    if problem is not None:
        raise TrustMismatch(problem.text)
    own = handle.submitter.address
    if own and not trust.accepts(own):
        revoked = trust.revoked_in(own)
        raise TrustMismatch(
            f"this deployment's submitter {own} was revoked in block {revoked}: "
            "its anchors no longer count"
            if revoked is not None
            else f"this deployment's submitter {own} is not among the accepted submitters "
            f"({', '.join(trust.submitters) or 'none'}): its anchors would not count. The "
            f"regulator authorises it (`traceability ledger authorize {own} --org CODE`) and "
            "publishes the trust file again."
        )
    check_chain(handle.submitter, trust, repairable=_repairable(handle))
    if not read_meta(session).get("contract"):
        write_meta(session, _meta_of(trust))


def _repairable(handle: LedgerHandle) -> bool:
    return handle.settings is None or not trust_from_settings(handle.settings)


def reader(session: Session, handle: LedgerHandle) -> TrustedLedger:
    """The trusted registry for verifying, with each reason it cannot be trusted if so.

    The chain half of the check (genesis, code, owner) is cached for
    TRUST_CHECK_CACHE_S; the database half is compared on every call, since it
    is the database an attacker edits. LedgerUnavailable propagates.
    """
    max_delay_s = (
        handle.settings.anchor_max_delay_s if handle.settings else DEFAULT_MAX_ANCHOR_DELAY_S
    )
    try:
        trust = trusted(session, handle)
    except (TrustMissing, TrustMismatch) as exc:
        return TrustedLedger(problems=(LedgerProblem.from_error(exc),), max_delay_s=max_delay_s)
    chain = handle.reader or handle.submitter
    now = time.monotonic()
    if handle.checked is None or now - handle.checked[0] > TRUST_CHECK_CACHE_S:
        try:
            check_chain(chain, trust, repairable=_repairable(handle))
            handle.checked = (now, None)
        except (ChainMismatch, ContractMissing, TrustMismatch) as exc:
            handle.checked = (now, LedgerProblem.from_error(exc))
    problems = tuple(p for p in (meta_problem(session, trust), handle.checked[1]) if p)
    return TrustedLedger(chain, trust, problems, max_delay_s)


@contextlib.contextmanager
def managed_node(
    settings: Settings, *, genesis_time: int | None = None
) -> Iterator[ManagedNode | None]:
    """Run the managed anvil node for as long as the block lasts.

    Only in managed mode, and only if nothing already answers on the port
    (``serve`` may be running it): the chain lives in ``data_dir/ledger``.
    ``genesis_time`` dates a chain created now (the demo's, before its quarter).
    """
    if settings.ledger_mode != "managed" or settings.ledger_url:
        yield None
        return
    node = ManagedNode(
        "anvil",
        data_dir=settings.data_dir / "ledger",
        port=settings.ledger_port,
        genesis_time=genesis_time,
    )
    if node_answers(node.url):
        yield None
        return
    node.start()
    try:
        yield node
    finally:
        node.stop()


def node_answers(url: str) -> bool:
    try:
        Web3Ledger.from_rpc(url, private_key=None, contract_address=None, timeout=2).info()
        return True
    except LedgerError:
        return False
