"""GS1 EPCIS 2.0 JSON-LD export of the event log (SPEC §4.2)."""
