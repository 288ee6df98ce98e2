"""Audit snapshots: the findings and portal figures of a period, computed off the request path.

One row per period (``all``: everything so far). The refresher
(``traceability audit refresh``) replaces a row's content when the log or the
anchors changed; every web worker and host reads the same rows. The content
is compressed JSON, written and read by ``traceability.audit.snapshots``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from traceability.db import UTCDateTime


class AuditSnapshot(SQLModel, table=True):
    __tablename__ = "audit_snapshot"

    period: str = Field(primary_key=True, max_length=16)
    since: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    as_of: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    #: The state of the log it was computed from: newest event seq, anchors per state, ledger.
    log_state: str = Field(max_length=400)
    last_seq: int = 0
    #: When the refresher started reading the log, and how long the whole pass took.
    computed_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    took_ms: int = 0
    ruleset: str = Field(max_length=64)
    findings: int = 0  # how many (the content holds them all)
    content: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))
    #: The log state it names beside ``last_seq`` (``audit.logstate``): event rows, final
    #: anchor batches, the highest id among them and a SHA-256 over their roots.
    events: int = 0
    roots: int = 0
    anchors_upto: int = 0
    roots_digest: str = Field(default="", max_length=64)
    #: HMAC over the content, the period, the times and the named state.
    seal: str = Field(default="", max_length=64)
