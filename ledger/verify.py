"""Independent verifier: ``python -m ledger.verify BUNDLE.json --rpc URL``.

Checks a proof bundle against any JSON-RPC endpoint without the plant's
database: every digest is recomputed from its content, the ``prev`` chain is
followed, every Merkle proof is checked against the root, and every root is
read from the registry's storage (eth_call), using the size the chain holds.
Exit status 0 only if every event verifies.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger import merkle
from ledger.canonical import NotCanonicalisable, digest_hex
from ledger.chain import AnchorRecord, Web3Ledger
from ledger.errors import LedgerError

SUPPORTED_FORMATS = ("weee-trace-proof/1",)


@dataclass(frozen=True)
class EventResult:
    id: str
    status: str  # verified | pending | tampered | broken_chain | missing_on_chain
    detail: str = ""


def _check_event(
    event: dict[str, Any], expected_prev: str | None, anchors: dict[str, AnchorRecord | None]
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
    return EventResult(event_id, "verified", f"anchored in block {record.block_number}")


def verify_bundle(bundle: dict[str, Any], ledger: Web3Ledger) -> list[EventResult]:
    """Statuses of every event in the bundle, in order."""
    if bundle.get("format") not in SUPPORTED_FORMATS:
        raise ValueError(f"unsupported bundle format {bundle.get('format')!r}")
    chain = bundle.get("chain") or {}
    info = ledger.info()
    if chain.get("chain_id") is not None and int(chain["chain_id"]) != info.chain_id:
        raise LedgerError(
            f"the RPC endpoint serves chain {info.chain_id}, "
            f"the bundle was anchored on chain {chain['chain_id']}"
        )
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
        results.append(_check_event(event, expected_prev, anchors))
        expected_prev = event.get("digest")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ledger.verify",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("bundle", type=Path, help="proof bundle JSON file")
    parser.add_argument("--rpc", required=True, help="JSON-RPC URL of the ledger")
    parser.add_argument("--contract", help="registry address (default: the bundle's)")
    args = parser.parse_args(argv)
    try:
        bundle = json.loads(args.bundle.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"cannot read {args.bundle}: {exc}", file=sys.stderr)
        return 2
    contract = args.contract or (bundle.get("chain") or {}).get("contract")
    if not contract:
        print("the bundle names no registry contract; pass --contract", file=sys.stderr)
        return 2
    try:
        ledger = Web3Ledger.from_rpc(args.rpc, private_key=None, contract_address=contract)
        results = verify_bundle(bundle, ledger)
    except (LedgerError, ValueError) as exc:
        print(f"verification failed: {exc}", file=sys.stderr)
        return 2
    subject = bundle.get("subject", {})
    print(
        f"subject: {json.dumps(subject, ensure_ascii=False)}  chain: {ledger.info().chain_id}"
        f"  registry: {contract}"
    )
    for result in results:
        print(f"  {result.status:<17} {result.id}  {result.detail}")
    ok = bool(results) and all(r.status == "verified" for r in results)
    print("VERIFIED" if ok else "NOT VERIFIED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
