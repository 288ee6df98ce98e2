"""Ethereum side of the traceability system.

Usable without Flask and never imports ``traceability``: canonical hashing,
RFC 9162 Merkle trees, the ``Ledger`` interface (``ledger.interface``) and its
web3 client (``ledger.chain``), the managed anvil node and the independent
verifier (``python -m ledger.verify``).
"""
