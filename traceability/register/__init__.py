"""The organisation register as a log (SPEC §2.8, §3 "Every figure is a replay").

Each organisation's facts — kind, name, region, licence, capacity, submitter
address — are events of the append-only log whose subject is the
organisation (``Event.organisation``): hashed, chained and anchored like a
device's. The ``organisation`` table is their projection; readers scope and
show what the events say, and name every row that disagrees. Example::

    $ traceability orgs change DIS-SZ01 --capacity 120000
    $ traceability orgs show                # the register as its events say
"""

__all__ = [
    "commands",
    "log",
    "services",
]
