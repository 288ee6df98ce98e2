"""Anchoring events to the ledger in Merkle batches (SPEC §3).

``batching`` cuts pending events into batches, ``states`` moves a batch
from cut to submitted to final, ``worker`` runs that loop in its own
process, ``connection`` opens the trusted ledger from the settings and
``service.anchor_now`` anchors everything pending at once. Example::

    from traceability.anchoring.service import anchor_now

    run = anchor_now(app)  # what was cut, submitted and confirmed
"""

__all__ = [
    "batching",
    "connection",
    "models",
    "repair",
    "service",
    "states",
    "worker",
]
