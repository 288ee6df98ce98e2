"""Ethereum side of the traceability system.

Usable without Flask and never imports ``traceability``: canonical hashing,
RFC 9162 Merkle trees, the chain client, the managed anvil node, the
anchoring worker's chain operations and the independent verifier
(``python -m ledger.verify``).
"""
