"""GS1 EPCIS 2.0 JSON-LD export of the event log (SPEC §4.2).

``mapping`` turns one event into an EPCIS ObjectEvent (CBV business steps
and dispositions), ``query`` answers ``GET /api/v1/epcis/events`` with an
EPCISQueryDocument of the events the caller may read. Example::

    $ curl -H "Authorization: Bearer $TOKEN" \
        "$SITE/api/v1/epcis/events?EQ_bizStep=shipping&GE_eventTime=2026-07-01T00:00:00%2B08:00"
"""

__all__ = [
    "mapping",
    "query",
]
