"""The organisation register as a log (SPEC §2.8, §3 "Every figure is a replay").

Each organisation's facts — kind, name, region, licence, capacity, submitter
address — are events of the append-only log whose subject is the
organisation (``Event.organisation``): hashed, chained and anchored like a
device's. The ``organisation`` table is their projection; readers scope and
show what the events say, and name every row that disagrees. Example::

    $ traceability orgs change DIS-SZ01 --capacity 120000
    $ traceability orgs show                # the register as its events say
    $ traceability orgs licence show DIS-SZ01 --on 2026-07-15   # its licences that day

Licences (处理资格证书, 危险废物经营许可证) are register events too
(``licensing``); their holders' 统一社会信用代码 are checked (``uscc``). So is
the submitter address the regulator authorises an organisation to anchor with
(``submitters``: ``traceability ledger authorize ADDR --org CODE``, on chain
and in the register).
"""

__all__ = [
    "commands",
    "licensing",
    "log",
    "services",
    "submitters",
    "uscc",
]
