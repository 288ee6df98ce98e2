"""Output lots: dismantled fractions on their way to downstream treatment (SPEC §2.4).

A lot is opened by the first dismantling that yields its fraction, shipped
on its transfer manifests (``manifests``: 转移联单 numbers, waste codes,
weights per truck) and received by events like a device's; ``queries``
lists what a plant can act on. Example::

    from traceability.lots.queries import actionable_lots

    actionable_lots(session, "DIS-SZ01")  # {"open": [...], "incoming": [...], "received": [...]}
"""

__all__ = [
    "manifests",
    "models",
    "queries",
]
