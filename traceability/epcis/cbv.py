"""The GS1 Core Business Vocabulary 2.0 terms an EPCIS 2.0 JSON-LD event names bare (SPEC §4.2).

Source: GS1 CBV 2.0 (2022) §7 — business steps (``BizStep-``), dispositions
(``Disp-``), source/destination types (``SDT-``), business transaction types
(``BTT-``) and error reasons (``ER-``) — as the EPCIS 2.0 JSON-LD context
(``https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld``) lists
them. In JSON-LD a standard value is written bare (``"shipping"``); the event
hash (``epcis.eventhash``) and anything comparing events use its Web URI
(``https://ref.gs1.org/cbv/BizStep-shipping``). A test checks these lists
against GS1's context file.
"""

from __future__ import annotations

CBV = "https://ref.gs1.org/cbv/"

BIZ_STEPS = frozenset(
    [
        "accepting",
        "arriving",
        "assembling",
        "collecting",
        "commissioning",
        "consigning",
        "creating_class_instance",
        "cycle_counting",
        "decommissioning",
        "departing",
        "destroying",
        "disassembling",
        "dispensing",
        "encoding",
        "entering_exiting",
        "holding",
        "inspecting",
        "installing",
        "killing",
        "loading",
        "other",
        "packing",
        "picking",
        "receiving",
        "removing",
        "repackaging",
        "repairing",
        "replacing",
        "reserving",
        "retail_selling",
        "sampling",
        "sensor_reporting",
        "shipping",
        "staging_outbound",
        "stock_taking",
        "stocking",
        "storing",
        "transporting",
        "unloading",
        "unpacking",
        "void_shipping",
    ]
)
DISPOSITIONS = frozenset(
    [
        "active",
        "available",
        "completeness_inferred",
        "completeness_verified",
        "conformant",
        "container_closed",
        "container_open",
        "damaged",
        "destroyed",
        "dispensed",
        "disposed",
        "encoded",
        "expired",
        "in_progress",
        "in_transit",
        "inactive",
        "mismatch_class",
        "mismatch_instance",
        "mismatch_quantity",
        "needs_replacement",
        "no_pedigree_match",
        "non_conformant",
        "non_sellable_other",
        "partially_dispensed",
        "recalled",
        "reserved",
        "retail_sold",
        "returned",
        "sellable_accessible",
        "sellable_not_accessible",
        "stolen",
        "unavailable",
        "unknown",
    ]
)
SOURCE_DESTINATION_TYPES = frozenset({"location", "owning_party", "possessing_party"})
BIZ_TRANSACTION_TYPES = frozenset(
    [
        "bol",
        "cert",
        "desadv",
        "inv",
        "pedigree",
        "po",
        "poc",
        "prodorder",
        "recadv",
        "rma",
        "testprd",
        "testres",
        "upevt",
    ]
)
ERROR_REASONS = frozenset({"did_not_occur", "incorrect_data"})

#: Each vocabulary: its terms and the prefix of their Web URIs.
VOCABULARIES: dict[str, tuple[frozenset[str], str]] = {
    "bizStep": (BIZ_STEPS, f"{CBV}BizStep-"),
    "disposition": (DISPOSITIONS, f"{CBV}Disp-"),
    "sourceDestinationType": (SOURCE_DESTINATION_TYPES, f"{CBV}SDT-"),
    "bizTransactionType": (BIZ_TRANSACTION_TYPES, f"{CBV}BTT-"),
    "errorReason": (ERROR_REASONS, f"{CBV}ER-"),
}

#: CBV 1.x URNs and the Web URI prefixes that replace them (CBV 2.0 §8.9 rule 14).
URN_PREFIXES: tuple[tuple[str, str], ...] = (
    ("urn:epcglobal:cbv:bizstep:", f"{CBV}BizStep-"),
    ("urn:epcglobal:cbv:disp:", f"{CBV}Disp-"),
    ("urn:epcglobal:cbv:btt:", f"{CBV}BTT-"),
    ("urn:epcglobal:cbv:sdt:", f"{CBV}SDT-"),
    ("urn:epcglobal:cbv:er:", f"{CBV}ER-"),
)


def web_uri(vocabulary: str, value: str) -> str:
    """A bare standard term as its Web URI; anything else (a URI of one's own) unchanged."""
    terms, prefix = VOCABULARIES[vocabulary]
    return prefix + value if value in terms else value


def bare(vocabulary: str, value: str) -> str:
    """A standard term's Web URI (or CBV 1.x URN) as the bare term; anything else unchanged."""
    terms, prefix = VOCABULARIES[vocabulary]
    for urn, web in URN_PREFIXES:
        if web == prefix and value.startswith(urn):
            value = prefix + value.removeprefix(urn)
    term = value.removeprefix(prefix)
    return term if value.startswith(prefix) and term in terms else value
