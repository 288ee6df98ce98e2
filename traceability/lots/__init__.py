"""Output lots: dismantled fractions on their way to downstream treatment (SPEC §2.4).

A lot is opened by the first dismantling that yields its fraction, shipped
and received by events like a device's; ``queries`` lists what a plant
can act on. Example::

    from traceability.lots.queries import actionable_lots

    actionable_lots(session, "DIS-SZ01")  # {"open": [...], "incoming": [...], "received": [...]}
"""

__all__ = [
    "models",
    "queries",
]
