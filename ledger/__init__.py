"""Ethereum side of the traceability system: hashing, Merkle proofs, the chain, the verifier.

Usable without Flask and never imports ``traceability``: canonical hashing
(``canonical``), RFC 9162 Merkle trees (``merkle``), the ``Ledger`` interface
(``interface``) and its web3 client (``chain``), checks of configured keys
and addresses (``keys``), the managed anvil node
(``node``) and the independent verifier (``verify``). Importing this package
imports none of them: ``import ledger.merkle`` does not load web3.

Verifying a device's proof bundle (``GET /api/v1/devices/{id}/proof``) needs
no database, only a JSON-RPC node and the trust file the regulator publishes
(``traceability ledger trust``); exit status 0 only if every event verifies::

    $ python -m ledger.verify bundle.json --rpc https://rpc.example --trust trust.json

The same from Python::

    import json
    from pathlib import Path

    from ledger.chain import Web3Ledger
    from ledger.verify import TrustAnchors, verify_bundle

    trust = TrustAnchors.read(Path("trust.json"))
    bundle = json.loads(Path("bundle.json").read_text())
    chain = Web3Ledger.from_rpc(
        "https://rpc.example", private_key=None, contract_address=trust.registry
    )
    for result in verify_bundle(bundle, chain, trust):  # raises TrustMismatch
        print(result.status, result.id)

What the verifier checks for each event, without a chain:

>>> from ledger import merkle
>>> from ledger.canonical import digest_hex
>>> leaves = [bytes.fromhex(digest_hex({"event": n})) for n in range(3)]
>>> root = merkle.root(leaves)
>>> proof = merkle.inclusion_proof(leaves, 2)
>>> merkle.verify_inclusion(leaves[2], 2, len(leaves), proof, root)
True
>>> merkle.verify_inclusion(leaves[1], 2, len(leaves), proof, root)
False
"""

__all__ = [
    "canonical",
    "chain",
    "errors",
    "interface",
    "keys",
    "merkle",
    "node",
    "verify",
]
