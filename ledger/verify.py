"""Independent verifier: ``python -m ledger.verify BUNDLE.json --rpc URL --trust TRUST.json``.

``BUNDLE.json`` may also be an evidence report (``REPORT.pdf``, or its attached
``evidence.json``): every proof bundle it carries is verified, and a PDF's QR
and printed digests are held to its attachment (``ledger.evidence``).

Checks a proof bundle against any JSON-RPC endpoint without the plant's
database. What it trusts comes only from its own arguments — the trust file
the regulator publishes (``traceability ledger trust``) or ``--contract`` and
``--submitter`` — never from the bundle: the node must serve the trusted chain
(chain id, genesis hash), the registry must hold the AnchorRegistry code and
belong to the trusted owner, and every anchor must have been made by an
accepted submitter. Every event must belong to the bundle's subject; every
digest is recomputed from its content, the ``prev`` chain is followed, every
Merkle proof is checked against the root, and every root is read from the
registry's storage (eth_call), using the size the chain holds.

An event anchored more than ``--max-delay`` seconds after its ``recorded_at``
(or in a block timed before it) is ``late``: the block time, read from the
registry, is the one time a plant cannot forge. A bundle proves a prefix of its
subject's history (events 1–n, up to the head it holds); one that claims to be
the whole history (``history``: events, head) and is not fails.

Exit status: 0 only if every event verifies; 1 if some event does not;
2 if the verifier refuses (missing trust arguments, a bundle that is not
about its subject or names another chain or registry, an untrusted chain).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ledger import merkle
from ledger.canonical import NotCanonicalisable, digest_hex
from ledger.chain import Web3Ledger
from ledger.errors import LedgerError, TrustMismatch
from ledger.evidence import EVIDENCE_FORMAT, bundles_of, read_pdf, report_problems
from ledger.interface import AnchorRecord, Ledger
from ledger.keys import checked_address
from ledger.recursion import restore_recursion_limit

SUPPORTED_FORMATS = ("weee-trace-proof/1",)
TRUST_FORMAT = "weee-trace-trust/1"
#: An anchor made by a submitter the trust anchors do not accept.
UNTRUSTED = "untrusted"
#: Anchored, but not within the allowance of when the event says it was recorded:
#: the block time is the one time a plant cannot forge (SPEC §3 "Time").
LATE = "late"
#: Default allowance from ``recorded_at`` to the anchor's block time: the anchoring
#: interval plus a tolerated ledger outage (practice default, TRACE_ANCHOR_MAX_DELAY_S).
DEFAULT_MAX_ANCHOR_DELAY_S = 86_400
#: How far a block may be timed before ``recorded_at`` (clocks of the plant's server
#: and the chain's nodes disagree by seconds, not by more).
CLOCK_SKEW_S = 300


def lateness(recorded_at: dt.datetime, block_time: int, max_delay_s: int) -> str | None:
    """Why an event anchored at ``block_time`` (Unix seconds) is late, or None if on time."""
    recorded = recorded_at.timestamp()
    if block_time < recorded - CLOCK_SKEW_S:
        return (
            f"anchored in a block timed {_span(recorded - block_time)} before the event "
            "says it was recorded"
        )
    if block_time > recorded + max_delay_s:
        return (
            f"anchored {_span(block_time - recorded)} after it was recorded "
            f"(allowed: {_span(max_delay_s)})"
        )
    return None


def _span(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 86_400:
        return f"{seconds / 86_400:.1f} d"
    if seconds >= 3_600:
        return f"{seconds / 3_600:.1f} h"
    return f"{seconds} s"


@dataclass(frozen=True)
class TrustAnchors:
    """What a verifier trusts (SPEC §3): published by the regulator, never read from a bundle.

    ``revoked``: (submitter, block) pairs — the regulator withdrew the
    submitter's right to anchor in that block (``traceability ledger
    revoke``). Its anchors up to that block still count (the registry took
    them before the revocation); none made in a later block does, even
    should the registry have accepted the submitter again since.
    """

    registry: str
    chain_id: int | None = None
    genesis_hash: str | None = None
    owner: str | None = None
    submitters: tuple[str, ...] = field(default_factory=tuple)
    revoked: tuple[tuple[str, int], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        # Checksummed addresses and lower-case hashes: comparisons are exact.
        object.__setattr__(self, "registry", _address(self.registry, "registry"))
        if self.owner:
            object.__setattr__(self, "owner", _address(self.owner, "owner"))
        if self.genesis_hash:
            object.__setattr__(self, "genesis_hash", self.genesis_hash.lower())
        object.__setattr__(
            self, "submitters", tuple(_address(s, "submitter") for s in self.submitters)
        )
        object.__setattr__(
            self,
            "revoked",
            tuple(sorted((_address(a, "revoked submitter"), int(b)) for a, b in self.revoked)),
        )

    def revoked_in(self, submitter: str) -> int | None:
        """The block in which ``submitter`` was revoked (None: it never was)."""
        return next((b for a, b in self.revoked if a.lower() == submitter.lower()), None)

    def accepts(self, submitter: str, block: int | None = None) -> bool:
        """Whether an anchor by ``submitter`` (made in ``block``, when known) counts."""
        if submitter.lower() not in {s.lower() for s in self.submitters}:
            return False
        revoked = self.revoked_in(submitter)
        return revoked is None or (block is not None and block <= revoked)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": TRUST_FORMAT,
            "chain_id": self.chain_id,
            "genesis_hash": self.genesis_hash,
            "registry": self.registry,
            "owner": self.owner,
            "submitters": list(self.submitters),
        }
        if self.revoked:
            data["revoked"] = {address: block for address, block in self.revoked}
        return data

    def with_submitters(self, submitters: Iterable[str]) -> TrustAnchors:
        return replace(self, submitters=tuple(submitters))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrustAnchors:
        if data.get("format") != TRUST_FORMAT:
            raise ValueError(f"not a trust file ({TRUST_FORMAT}): format {data.get('format')!r}")
        if not data.get("registry"):
            raise ValueError("the trust file names no registry")
        revoked = data.get("revoked") or {}
        if not isinstance(revoked, dict):
            raise ValueError("the trust file's revoked is not a map of address to block")
        return cls(
            registry=str(data["registry"]),
            chain_id=int(data["chain_id"]) if data.get("chain_id") is not None else None,
            genesis_hash=data.get("genesis_hash") or None,
            owner=data.get("owner") or None,
            submitters=tuple(data.get("submitters") or ()),
            revoked=tuple((str(a), int(b)) for a, b in revoked.items()),
        )

    @classmethod
    def read(cls, path: Path) -> TrustAnchors:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


def _address(value: str, what: str) -> str:
    return checked_address(str(value), what)


def chain_problem(ledger: Ledger, trust: TrustAnchors) -> str | None:
    """Why the chain ``ledger`` talks to is not the trusted one (None: it is).

    ``ledger`` must point at ``trust.registry``. Raises LedgerError only when
    the node cannot be asked at all.
    """
    info = ledger.info()
    if trust.chain_id is not None and info.chain_id != trust.chain_id:
        return (
            f"the node serves chain {info.chain_id}, the trust anchors name chain {trust.chain_id}"
        )
    if trust.genesis_hash and info.genesis_hash.lower() != trust.genesis_hash:
        return (
            f"the node's genesis block is {info.genesis_hash}, the trust anchors name "
            f"{trust.genesis_hash}: the chain was reset or replaced"
        )
    if not ledger.contract_code_matches():
        return f"no AnchorRegistry code at the trusted registry {trust.registry}"
    if trust.owner:
        owner = ledger.owner()
        if owner.lower() != trust.owner.lower():
            return f"the registry {trust.registry} is owned by {owner}, not by {trust.owner}"
    return None


@dataclass(frozen=True)
class EventResult:
    id: str
    status: str  # verified, late, pending, tampered, broken_chain, missing_on_chain, untrusted
    detail: str = ""


def _check_event(
    event: dict[str, Any],
    expected_prev: str | None,
    anchors: dict[str, AnchorRecord | None],
    trust: TrustAnchors,
    max_delay_s: int = DEFAULT_MAX_ANCHOR_DELAY_S,
) -> EventResult:
    content = event.get("content") or {}
    event_id = str(content.get("id", "?"))
    try:
        digest = digest_hex(content)
    except (NotCanonicalisable, TypeError, ValueError) as exc:
        return EventResult(event_id, "tampered", f"content cannot be hashed: {exc}")
    if digest != event.get("digest"):
        return EventResult(event_id, "tampered", "content does not hash to the digest")
    if content.get("prev") != expected_prev:
        return EventResult(event_id, "broken_chain", "prev does not name the previous event")
    anchor = event.get("anchor")
    if not anchor:
        return EventResult(event_id, "pending", "not anchored yet")
    root = str(anchor.get("root", ""))
    record = anchors.get(root)
    if record is None:
        return EventResult(event_id, "missing_on_chain", f"root {root[:16]}… is not on chain")
    if not trust.accepts(record.submitter, record.block_number):
        revoked = trust.revoked_in(record.submitter)
        why = (
            f"anchored by {record.submitter} in block {record.block_number}, "
            f"after it was revoked in block {revoked}"
            if revoked is not None and record.block_number > revoked
            else f"anchored by {record.submitter}, not an accepted submitter"
        )
        return EventResult(event_id, UNTRUSTED, why)
    try:
        proof = [bytes.fromhex(p) for p in anchor.get("proof", [])]
        ok = merkle.verify_inclusion(
            bytes.fromhex(digest),
            int(anchor["leaf_index"]),
            record.size,
            proof,
            bytes.fromhex(root),
        )
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        return EventResult(event_id, "tampered", "Merkle proof does not lead to the root")
    block_time = dt.datetime.fromtimestamp(record.timestamp, dt.UTC)
    where = f"anchored in block {record.block_number} at {block_time:%Y-%m-%d %H:%M:%S} UTC"
    try:
        recorded = dt.datetime.fromisoformat(str(content.get("recorded_at")))
        late = lateness(recorded, record.timestamp, max_delay_s)
    except (TypeError, ValueError):
        return EventResult(event_id, "tampered", "recorded_at is not a timestamp")
    if late:
        return EventResult(event_id, LATE, f"{where}: {late}")
    return EventResult(event_id, "verified", where)


def check_subject(bundle: dict[str, Any]) -> None:
    """Every event must be about the bundle's one subject (a device or a lot)."""
    subject = bundle.get("subject") or {}
    kinds = [k for k in ("device", "lot", "claim") if subject.get(k)]
    if len(kinds) != 1:
        raise TrustMismatch(
            f"the bundle's subject must name one device, lot or claim, not {subject!r}"
        )
    kind, name = kinds[0], subject[kinds[0]]
    for event in bundle.get("events", []):
        content = event.get("content") or {}
        if content.get(kind) != name:
            raise TrustMismatch(
                f"event {content.get('id', '?')} belongs to {kind} {content.get(kind)!r}, "
                f"not to the bundle's subject {name!r}"
            )


def check_bundle_chain(bundle: dict[str, Any], trust: TrustAnchors) -> None:
    """A bundle naming another chain or registry than the trusted one is refused outright."""
    chain = bundle.get("chain") or {}
    named = chain.get("contract")
    if named and str(named).lower() != trust.registry.lower():
        raise TrustMismatch(
            f"the bundle names registry {named}, the trust anchors name {trust.registry}"
        )
    named_chain = chain.get("chain_id")
    if (
        named_chain is not None
        and trust.chain_id is not None
        and int(named_chain) != trust.chain_id
    ):
        raise TrustMismatch(
            f"the bundle names chain {named_chain}, the trust anchors chain {trust.chain_id}"
        )
    genesis = chain.get("genesis_hash")
    if genesis and trust.genesis_hash and str(genesis).lower() != trust.genesis_hash:
        raise TrustMismatch(
            f"the bundle names genesis {genesis}, the trust anchors {trust.genesis_hash}"
        )


def verify_bundle(
    bundle: dict[str, Any],
    ledger: Ledger,
    trust: TrustAnchors,
    *,
    max_delay_s: int = DEFAULT_MAX_ANCHOR_DELAY_S,
) -> list[EventResult]:
    """Statuses of every event in the bundle, in order.

    ``ledger`` must point at ``trust.registry``. Raises TrustMismatch when the
    bundle or the chain is not what the trust anchors name.
    """
    if bundle.get("format") not in SUPPORTED_FORMATS:
        raise ValueError(f"unsupported bundle format {bundle.get('format')!r}")
    if (ledger.contract_address or "").lower() != trust.registry.lower():
        raise TrustMismatch(f"the ledger client is not pointed at {trust.registry}")
    check_subject(bundle)
    check_bundle_chain(bundle, trust)
    problem = chain_problem(ledger, trust)
    if problem:
        raise TrustMismatch(problem)
    anchors: dict[str, AnchorRecord | None] = {}
    for event in bundle.get("events", []):
        root = (event.get("anchor") or {}).get("root")
        if root and root not in anchors:
            try:
                anchors[root] = ledger.get_anchor(bytes.fromhex(root))
            except ValueError:
                anchors[root] = None
    results, expected_prev = [], None
    for event in bundle.get("events", []):
        results.append(_check_event(event, expected_prev, anchors, trust, max_delay_s))
        expected_prev = event.get("digest")
    return results


def history_problem(bundle: dict[str, Any]) -> str | None:
    """Why the bundle is not the whole history it claims to be (``history``: events, head)."""
    claimed = bundle.get("history")
    if not isinstance(claimed, dict):
        return None
    events = bundle.get("events", [])
    head = events[-1].get("digest") if events else None
    if claimed.get("events") != len(events) or claimed.get("head") != head:
        return (
            f"the bundle claims the whole history ({claimed.get('events')} events, head "
            f"{str(claimed.get('head'))[:16]}…) but holds {len(events)} event(s)"
            + (f" ending at {str(head)[:16]}…" if head else "")
        )
    return None


def proved(bundle: dict[str, Any], results: list[EventResult]) -> str:
    """What a verified bundle proves: a prefix of the subject's history, up to its last event."""
    subject = bundle.get("subject") or {}
    name = subject.get("device") or subject.get("lot") or "?"
    events = bundle.get("events", [])
    if not events:
        return f"nothing: the bundle holds no event of {name}"
    head = events[-1].get("digest", "")
    whole = (
        "the whole history, as the bundle claims"
        if isinstance(bundle.get("history"), dict)
        else "the bundle does not claim to be the whole history: later events may exist"
    )
    return (
        f"proved: events 1–{len(results)} of {name}'s history, whose head at event "
        f"{len(results)} is {head} ({whole})"
    )


def _trust_from_args(args: argparse.Namespace) -> TrustAnchors:
    if args.trust is not None:
        trust = TrustAnchors.read(args.trust)
        if args.submitter:  # narrowing (or widening) what the published file accepts
            trust = trust.with_submitters(args.submitter)
        return trust
    if not args.contract or not args.submitter:
        raise ValueError(
            "say what to trust: --trust FILE (published by the regulator), "
            "or --contract ADDR with at least one --submitter ADDR"
        )
    return TrustAnchors(
        registry=args.contract,
        chain_id=args.chain_id,
        genesis_hash=args.genesis_hash,
        owner=args.owner,
        submitters=tuple(args.submitter),
    )


def _parser() -> argparse.ArgumentParser:
    """The command line: the bundle, the node to ask, and the trust anchors to hold it to."""
    parser = argparse.ArgumentParser(
        prog="python -m ledger.verify",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "bundle", type=Path, help="proof bundle JSON file, or an evidence report PDF"
    )
    parser.add_argument("--rpc", required=True, help="JSON-RPC URL of the ledger")
    parser.add_argument("--trust", type=Path, help="trust file (traceability ledger trust)")
    parser.add_argument("--contract", help="trusted registry address (without --trust)")
    parser.add_argument(
        "--submitter", action="append", default=[], help="accepted submitter (repeatable)"
    )
    parser.add_argument("--chain-id", type=int, help="trusted chain id (without --trust)")
    parser.add_argument("--genesis-hash", help="trusted genesis block hash (without --trust)")
    parser.add_argument("--owner", help="trusted registry owner, the regulator (without --trust)")
    parser.add_argument(
        "--max-delay",
        type=int,
        default=DEFAULT_MAX_ANCHOR_DELAY_S,
        metavar="SECONDS",
        help="an event anchored later than this after its recorded_at is late "
        f"(default {DEFAULT_MAX_ANCHOR_DELAY_S})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Verify a proof bundle against the chain: 0 verified, 1 not, 2 could not verify."""
    args = _parser().parse_args(argv)
    restore_recursion_limit()  # a deeply nested bundle file raises, never crashes
    try:
        trust = _trust_from_args(args)
    except (OSError, ValueError) as exc:
        print(f"refusing to verify: {exc}", file=sys.stderr)
        return 2
    try:
        bundles, problems = _bundles_of_file(args.bundle)
    except (OSError, ValueError) as exc:
        print(f"cannot read {args.bundle}: {exc}", file=sys.stderr)
        return 2
    for problem in problems:  # an evidence report disagreeing with its own attachment
        print(f"  report: {problem}")
    ok = not problems
    try:
        ledger: Ledger = Web3Ledger.from_rpc(
            args.rpc, private_key=None, contract_address=trust.registry
        )
        for bundle in bundles:
            results = verify_bundle(bundle, ledger, trust, max_delay_s=args.max_delay)
            ok = _report(bundle, results, trust, ledger.info().chain_id) and ok
    except TrustMismatch as exc:
        print(f"verification refused: {exc}", file=sys.stderr)
        print("NOT VERIFIED")
        return 2
    except (LedgerError, ValueError) as exc:
        print(f"verification failed: {exc}", file=sys.stderr)
        return 2
    if len(bundles) != 1 or problems:
        print(f"report: {'VERIFIED' if ok else 'NOT VERIFIED'} ({len(bundles)} bundle(s))")
    return 0 if ok else 1


def _bundles_of_file(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The bundles to verify in ``path`` — a proof bundle, an evidence file or an evidence
    report PDF (``ledger.evidence``) — and what in a report disagrees with its attachment."""
    if path.suffix.lower() == ".pdf":
        parts = read_pdf(path)
        problems = report_problems(parts)
        if parts.evidence is None:
            raise ValueError("; ".join(problems))
        return bundles_of(parts.evidence), problems
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and data.get("format") == EVIDENCE_FORMAT:
        return bundles_of(data), []
    return [data], []


def _report(
    bundle: dict[str, Any], results: list[EventResult], trust: TrustAnchors, chain_id: int
) -> bool:
    """Print what was checked against what, each event's result and the verdict; the verdict."""
    unchecked = [
        name
        for name, value in (
            ("chain id", trust.chain_id),
            ("genesis hash", trust.genesis_hash),
            ("owner", trust.owner),
        )
        if not value
    ]
    subject = bundle.get("subject", {})
    print(
        f"subject: {json.dumps(subject, ensure_ascii=False)}  chain: {chain_id}"
        f"  registry: {trust.registry}  submitters: {', '.join(trust.submitters)}"
    )
    if unchecked:
        print(f"  not checked (not given): {', '.join(unchecked)}")
    for result in results:
        print(f"  {result.status:<17} {result.id}  {result.detail}")
    incomplete = history_problem(bundle)
    ok = bool(results) and all(r.status == "verified" for r in results) and not incomplete
    if incomplete:
        print(f"  {incomplete}")
    elif ok:
        print(proved(bundle, results))
    print("VERIFIED" if ok else "NOT VERIFIED")
    return ok


if __name__ == "__main__":
    sys.exit(main())
