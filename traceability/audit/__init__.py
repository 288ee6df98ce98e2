"""The regulator's audit (SPEC §2.7): anomaly rules over the verified event log, and sampling.

Layered above ``reports`` and ``verification`` (it reads what they verify)
and below the interfaces (api, web, cli). Not to be confused with
``verification.reconciliation``, which checks the ledger's anchors (``traceability verify``).
"""
