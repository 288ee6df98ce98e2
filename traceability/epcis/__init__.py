"""GS1 EPCIS 2.0 interchange of the event log (SPEC §4.2): export, query, capture.

``mapping`` turns one recorded event into an EPCIS event (CBV business steps
and dispositions) identified by its GS1 event hash (``eventhash``, CBV 2.0
§8.9); ``query`` answers ``GET /api/v1/epcis/events`` with an
EPCISQueryDocument of the events the caller may read, their digests,
links and anchors beside them in ``trace:proofs``; ``capture`` records
another system's EPCIS document (``POST /api/v1/epcis/capture``) through
the rules of ``POST /events``. Example::

    $ curl -H "Authorization: Bearer $TOKEN" \\
        "$SITE/api/v1/epcis/events?EQ_bizStep=shipping&GE_eventTime=2026-07-01T00:00:00%2B08:00"
    $ curl -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/ld+json" \\
        --data @document.jsonld "$SITE/api/v1/epcis/capture"

An event's ID is its content's hash, whatever else is known about it:

>>> from traceability.epcis.eventhash import event_hash
>>> event = {"type": "ObjectEvent", "eventTime": "2026-07-01T08:00:00+08:00",
...          "eventTimeZoneOffset": "+08:00", "action": "OBSERVE", "bizStep": "receiving",
...          "epcList": ["https://trace.example.cn/d/A"]}
>>> event_hash(event, {}) == event_hash({**event, "recordTime": "2026-07-02T00:00:00Z"}, {})
True
>>> event_hash(event, {})[:14]
'ni:///sha-256;'
"""

__all__ = [
    "batches",
    "capture",
    "cbv",
    "eventhash",
    "mapping",
    "models",
    "query",
    "shape",
]
