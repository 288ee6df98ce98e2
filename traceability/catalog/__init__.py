"""The WEEE catalogue, fractions, dismantling rules, emission factors and rate schedules.

All of it is versioned data under ``data/``, validated when loaded; services
receive the loaded ``Catalog`` and never read the files themselves.

>>> from traceability.catalog import load_catalog
>>> catalog = load_catalog()
>>> "refrigerator" in catalog.categories
True
"""

from traceability.catalog.models import Catalog, load_catalog

__all__ = ["Catalog", "load_catalog"]
