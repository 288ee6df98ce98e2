"""The regulator's audit (SPEC §2.7): anomaly rules over the verified event log, and sampling.

Layered above ``reports`` and ``verification`` (it reads what they verify)
and below the interfaces (api, web, cli). Not to be confused with
``verification.reconciliation``, which checks the ledger's anchors (``traceability verify``).

``dataset`` replays and verifies every device and lot (a device of a closed
quarter as recorded by its close: ``custody.closing``), ``device_rules``,
``plant_rules``, ``intake_rules``, ``floor_rules``, ``licence_rules`` and
``manifest_rules`` (over ``lot_queries``) find what breaks the rules of
``rules.toml`` (``ruleset``), reading what plants declare (``operations``),
their licences (the register's) and the catalogue's unit-weight and share
bands (``catalog/data/bands.toml``),
``refresh`` stores each period's findings as an ``models.AuditSnapshot`` off
the request path, ``listing`` pages them for one reader, ``sampling`` draws
the devices an inspector checks on site. Example::

    $ traceability audit refresh          # compute the snapshots
    $ traceability audit sample DIS-SZ01 2026Q3   # the days and devices to review
"""

__all__ = [
    "dataset",
    "listing",
    "models",
    "refresh",
    "ruleset",
    "sampling",
    "services",
    "snapshots",
]
