"""Device QR IDs and their printed labels (PNG, SVG, PDF sheets) (SPEC §2.3).

``ids`` mints IDs with a check character and reads them back in any form,
``services`` mints a sheet of them, ``render`` draws labels and sheets.

>>> from traceability.labels.ids import format_id, normalise_id
>>> format_id("D3RXQ0C11F09Z0")
'D3RX-Q0C1-1F09-Z0'
>>> normalise_id("d3rx-q0c1-1f09-z0")
'D3RXQ0C11F09Z0'
"""

__all__ = [
    "ids",
    "models",
    "render",
    "services",
]
