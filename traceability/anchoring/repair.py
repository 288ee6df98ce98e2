"""``traceability anchor --repair``: after a chain reset, re-anchor every batch from the database.

Repair respects the trust anchors. Where they come from configuration (an
rpc ledger with ``TRACE_LEDGER_CONTRACT``) it never switches registries: if
the configured registry is gone, only the regulator can restore or replace
it. Where this deployment deployed the registry itself (managed node,
in-process chain, an rpc node without a configured registry), a reset chain
gets a new registry, and the trust file is rewritten — loudly, because every
verifier holding the old one must be given the new one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Engine, select, update
from sqlmodel import Session, col

from ledger.errors import ChainMismatch, ContractMissing, LedgerError, TrustMismatch
from ledger.redact import redact_url
from traceability.anchoring.connection import (
    LedgerHandle,
    check_chain,
    configured_trust,
    deploy,
    trust_from_settings,
    trust_path,
)
from traceability.anchoring.models import AnchorBatch, AnchorState
from traceability.anchoring.worker import AnchorRun, run_once
from traceability.db import begin_write

log = logging.getLogger(__name__)


def _chain_lost(handle: LedgerHandle) -> bool:
    trust = handle.trust or configured_trust(handle)
    if trust is None:
        return True
    handle.trust = trust
    handle.point_at(trust.registry)
    try:
        check_chain(handle.submitter, trust, repairable=True)
    except (ChainMismatch, ContractMissing):
        return True
    return False


def repair(
    engine: Engine,
    handle: LedgerHandle,
    *,
    confirmations: int,
    announce: Callable[[str], None] = log.warning,
) -> AnchorRun:
    """Redeploy where allowed if the chain lost the registry, then re-anchor what is missing."""
    settings = handle.settings
    with Session(engine, expire_on_commit=False) as session:
        if _chain_lost(handle):
            if settings is not None and trust_from_settings(settings):
                raise TrustMismatch(
                    f"the configured registry {settings.ledger_contract} is not on the chain "
                    f"at {redact_url(handle.submitter.rpc_url)}: repair never switches "
                    "registries. The regulator must restore the chain or publish new trust "
                    "anchors."
                )
            if handle.owner is None:
                raise LedgerError("the registry is gone and this deployment cannot redeploy it")
            old = handle.trust.registry if handle.trust else None
            address = deploy(session, handle)
            where = trust_path(settings) if settings is not None else "memory"
            announce(
                f"WARNING: the chain was reset; registry REDEPLOYED at {address}"
                + (f" (was {old})" if old else "")
                + f". The trust anchors were rewritten in {where}: give every verifier "
                "the new ones (`traceability ledger trust`)."
            )
        handle.forget_check()
        batches = list(session.execute(select(AnchorBatch.id, AnchorBatch.root)))  # type: ignore[call-overload]
        session.rollback()  # no transaction is held while the chain is asked
        missing = [
            batch_id
            for batch_id, root in batches
            if handle.submitter.get_anchor(bytes.fromhex(root)) is None
        ]
        if missing:
            begin_write(session)
            session.execute(
                update(AnchorBatch)
                .where(col(AnchorBatch.id).in_(missing))
                .values(
                    state=AnchorState.pending,
                    tx_hash=None,
                    block_number=None,
                    block_hash=None,
                    nonce=None,
                )
            )
            session.commit()
    return run_once(engine, handle, max_size=10_000, confirmations=confirmations)
