"""The regulator administers the chain: authorising and revoking plants' submitters (SPEC §3
"Contract", "Trust anchors", "The regulator's instance").

``authorise`` grants an address the submitter role on the registry (a
transaction signed with the owner's key, TRACE_LEDGER_OWNER_KEY), records
``submitter_grant`` on the organisation's register chain — with the
registry, transaction and block, hashed, chained and anchored like every
register event — and adds the address to the trust file this deployment
publishes (``data_dir/trust.json``, what ``traceability ledger trust``
prints). ``revoke`` withdraws the role, records ``submitter_revoke`` on the
organisation that held it and marks the address revoked in that block in the
trust file: its anchors up to the revocation still count, none after it.

Everything that would make a transaction pointless (a malformed address, an
unknown organisation, an address another organisation holds, the owner's own
address, no registry deployed here, a key that is not the owner's) is refused
before it is sent, and no database transaction is held while the chain is
asked. Example::

    $ traceability ledger deploy --out trust.json
    $ traceability orgs add DIS-SZ01 --kind dismantler --name … --region 320500
    $ traceability ledger authorize 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --org DIS-SZ01 \
        --out trust.json                  # publish trust.json: plants point
                                          # TRACE_LEDGER_TRUST_FILE at it
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlmodel import Session

from ledger.errors import LedgerError, TrustMismatch, TrustMissing
from ledger.interface import Ledger, Receipt
from ledger.keys import checked_address
from ledger.verify import TrustAnchors
from traceability.accounts.models import Principal
from traceability.anchoring.connection import (
    LedgerHandle,
    check_chain,
    record_trust,
    trust_from_settings,
    trust_path,
)
from traceability.db import utcnow
from traceability.errors import NotFound, ValidationFailed
from traceability.register.log import (
    SUBMITTER_GRANT,
    SUBMITTER_REVOKE,
    record_org_event,
    register_of,
)
from traceability.register.services import SYSTEM, may_change


@dataclass(frozen=True)
class Administered:
    """What an authorisation or revocation did: on chain, in the register, in the trust file.

    ``tx_hash`` is None when nothing needed doing (already so on chain and in the register);
    ``funded``: whether the address holds ether to pay for its anchors.
    """

    address: str
    org: str | None
    trust: TrustAnchors
    funded: bool
    tx_hash: str | None = None
    block_number: int | None = None


def _address(value: str) -> str:
    try:
        return checked_address(value, "ADDR")
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="address") from None


def holder(session: Session, address: str) -> str | None:
    """The organisation the register assigns ``address`` to (None: none)."""
    for code, facts in register_of(session).items():
        if facts.submitter and facts.submitter.lower() == address.lower():
            return code
    return None


def administered_registry(handle: LedgerHandle) -> tuple[Ledger, TrustAnchors]:
    """The owner's client on the registry this deployment deployed, and its trust file.

    Raises LedgerError naming what must come first: ``ledger deploy`` (no trust
    file here), the owner's key, or the regulator's own instance.
    """
    settings = handle.settings
    if settings is None:
        raise TrustMissing("no settings: the trust file lives in the data directory")
    if trust_from_settings(settings):
        raise TrustMismatch(
            "the trust anchors here come from configuration (TRACE_LEDGER_TRUST_FILE or "
            "TRACE_LEDGER_CONTRACT): submitters are authorised on the regulator's instance, "
            "which deployed the registry"
        )
    path = trust_path(settings)
    if not path.exists():
        raise TrustMissing(
            f"no registry deployed here ({path} does not exist): run `traceability ledger "
            "deploy` first"
        )
    try:
        trust = TrustAnchors.read(path)
    except (OSError, ValueError) as exc:
        raise TrustMissing(f"cannot read the trust file {path}: {exc}") from exc
    if handle.owner is None:
        raise LedgerError("authorising needs the registry owner's key (TRACE_LEDGER_OWNER_KEY)")
    if trust.owner and handle.owner.address.lower() != trust.owner.lower():
        raise TrustMismatch(
            f"TRACE_LEDGER_OWNER_KEY is the key of {handle.owner.address}; the registry "
            f"{trust.registry} is owned by {trust.owner}"
        )
    handle.point_at(trust.registry)
    assert handle.owner is not None
    check_chain(handle.owner, trust, repairable=True)
    return handle.owner, trust


def _check_assignment(session: Session, owner: Ledger, address: str, org_code: str) -> str | None:
    """Refuse an assignment the register or the registry contradicts; who holds ``address``."""
    facts = register_of(session, [org_code]).get(org_code)
    if facts is None:
        raise NotFound(
            f"no organisation {org_code[:32]} in the register: add it first "
            "(`traceability orgs add`)",
            field="org",
        )
    held_by = holder(session, address)
    if held_by is not None and held_by != org_code:
        raise ValidationFailed(
            f"{address} is the submitter of {held_by}: revoke it first", field="address"
        )
    if address.lower() == owner.address.lower():
        raise ValidationFailed(
            f"{address} is the registry owner (the regulator): the registry refuses an owner "
            "that anchors",
            field="address",
        )
    current = facts.submitter
    if current and current.lower() != address.lower() and owner.is_submitter(current):
        raise ValidationFailed(
            f"{org_code} anchors with {current}: revoke it first "
            f"(`traceability ledger revoke {current}`)",
            field="org",
        )
    return held_by


def _evidence(address: str, registry: str, receipt: Receipt) -> dict[str, object]:
    return {
        "submitter": address,
        "registry": registry,
        "tx": receipt.tx_hash,
        "block": receipt.block_number,
    }


def authorise(
    session: Session,
    handle: LedgerHandle,
    *,
    address: str,
    org_code: str,
    by: Principal = SYSTEM,
    now: dt.datetime | None = None,
) -> Administered:
    """Grant ``address`` the submitter role for ``org_code``; recorded in the register and
    the trust file. Authorising it again for the same organisation changes nothing."""
    may_change(by)
    address = _address(address)
    owner, trust = administered_registry(handle)
    held_by = _check_assignment(session, owner, address, org_code)
    session.rollback()  # no transaction is held while the chain is asked
    receipt = None
    if held_by != org_code or not owner.is_submitter(address):
        receipt = owner.grant_submitter(address)
        payload = _evidence(address, trust.registry, receipt)
        record_org_event(
            session, code=org_code, by=by, event_type=SUBMITTER_GRANT,
            payload=payload, now=now or utcnow(),
        )  # fmt: skip
        session.commit()
    updated = replace(
        trust,
        submitters=tuple(dict.fromkeys([*trust.submitters, address])),
        revoked=tuple(r for r in trust.revoked if r[0].lower() != address.lower()),
    )
    record_trust(handle, updated, why=f"updated: {address} authorised", announce=False)
    return Administered(
        address, org_code, updated, owner.balance(address) > 0,
        receipt.tx_hash if receipt else None, receipt.block_number if receipt else None,
    )  # fmt: skip


def revoke(
    session: Session,
    handle: LedgerHandle,
    *,
    address: str,
    by: Principal = SYSTEM,
    now: dt.datetime | None = None,
) -> Administered:
    """Withdraw ``address``'s submitter role: recorded on the organisation that held it and,
    with the block, in the trust file (its later anchors no longer count)."""
    may_change(by)
    address = _address(address)
    owner, trust = administered_registry(handle)
    held_by = holder(session, address)
    session.rollback()  # no transaction is held while the chain is asked
    if held_by is None and not owner.is_submitter(address):
        raise ValidationFailed(
            f"{address} is not an authorised submitter of {trust.registry}", field="address"
        )
    receipt = owner.revoke_submitter(address)
    if held_by is not None:
        payload = _evidence(address, trust.registry, receipt)
        record_org_event(
            session, code=held_by, by=by, event_type=SUBMITTER_REVOKE,
            payload=payload, now=now or utcnow(),
        )  # fmt: skip
        session.commit()
    kept = tuple(r for r in trust.revoked if r[0].lower() != address.lower())
    updated = replace(trust, revoked=(*kept, (address, receipt.block_number)))
    record_trust(handle, updated, why=f"updated: {address} revoked", announce=False)
    return Administered(
        address, held_by, updated, owner.balance(address) > 0,
        receipt.tx_hash, receipt.block_number,
    )  # fmt: skip
