"""Verifying events against their digests, chains, Merkle batches and the ledger.

``services`` gives each event a status (verified, late, pending, tampered,
broken_chain, missing_on_chain, untrusted), ``logs`` verifies whole logs of
devices and lots, ``bundle`` writes the proof bundle that ``python -m
ledger.verify`` checks without this application, ``reconciliation``
accounts for every anchor on chain (``traceability verify``),
``completeness`` records that check, ``status`` sums it up. Example::

    $ traceability verify D3RXQ0C11F09Z0     # one device's events
    $ traceability verify --all              # every event and every anchor
"""

__all__ = [
    "bundle",
    "completeness",
    "logs",
    "models",
    "reconciliation",
    "services",
    "status",
]
