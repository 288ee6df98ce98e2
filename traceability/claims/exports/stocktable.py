"""The stock and outputs sheets (issue 18 item 5): per category the devices held at the
quarter's start and end beside those received and dismantled in it; per fraction what was
in store, produced, shipped (manifests, processors) and left in store.

Rendered from the figures the submission anchors (``claims.stock``), for the export
and for ``claims verify``, which renders them from the chain and names the cell that
differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from traceability.catalog.models import Catalog
from traceability.claims.exports.rows import kg

STOCK_SHEET = "库存 Stock"
STOCK_HEADERS = (
    "类别 Category",
    "期初库存(台) Opening stock",
    "本期入厂(台) Received",
    "本期拆解(台) Dismantled",
    "本期转出(台) Sent on",
    "期末库存(台) Closing stock",
)
OUTPUT_SHEET = "产物 Outputs"
OUTPUT_HEADERS = (
    "产物 Fraction",
    "期初贮存(kg) In store at start",
    "本期产生(kg) Produced",
    "本期转移(kg) Shipped",
    "期末贮存(kg) In store at end",
    "转移联单 Manifests",
    "接收处理企业 Processors",
)
TOTAL = "合计 Total"


def stock_rows(catalog: Catalog, stock: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """A row per category (its name and code, the five counts), then the total."""
    out: list[tuple[Any, ...]] = []
    for category, *counts in stock:
        named = catalog.categories.get(str(category))
        out.append((f"{named.zh} {category}" if named else str(category),
                    *(int(c) for c in counts)))  # fmt: skip
    out.append((TOTAL, *(sum(int(r[c]) for r in out) for c in range(1, 6))))
    return out


def output_rows(catalog: Catalog, outputs: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """A row per fraction (its name and code, four weights in kg, manifests, processors)."""
    out: list[tuple[Any, ...]] = []
    for fraction, opening, produced, shipped, closing, manifests, processors in outputs:
        named = catalog.fractions.get(str(fraction))
        out.append((
            f"{named.zh} {fraction}" if named else str(fraction),
            kg(int(opening)), kg(int(produced)), kg(int(shipped)), kg(int(closing)),
            f"{len(manifests)}: {', '.join(manifests)}" if manifests else "0",
            ", ".join(processors),
        ))  # fmt: skip
    return out
