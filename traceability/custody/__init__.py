"""Append-only events: the state machine, custody checks and digests (SPEC §2.4, §3).

``ingest.record_events`` is the one way in: each item of a batch is parsed
(``parsing``, ``messages``), checked against the devices and lots it names
(``checks``, in the in-memory ``workspace``), hashed and chained onto its
subject's last event, and written all-or-nothing. ``facts`` replays a
device's events into what they say. Example::

    from traceability.custody.ingest import record_events

    results = record_events(session=session, principal=principal, catalog=catalog,
                            items=[{"type": "collected", ...}], now=now)
"""

__all__ = [
    "facts",
    "ingest",
    "messages",
    "models",
    "workspace",
]
