"""The WEEE catalogue, fractions, dismantling rules, emission factors and rate schedules.

All of it is versioned data under ``data/``, validated when loaded.
"""

from traceability.catalog.models import Catalog, load_catalog

__all__ = ["Catalog", "load_catalog"]
