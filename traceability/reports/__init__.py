"""What the system reports about devices and batches, from their verified event logs.

The read side sits above custody (the write side), anchoring and
verification, and imports from them; nothing below imports it.
``devices`` builds a device's page and API answer, ``batches`` a processing
batch with its mass and savings. Example::

    $ curl -H "Authorization: Bearer $TOKEN" "$SITE/api/v1/devices/D3RXQ0C11F09Z0"
"""

__all__ = [
    "batches",
    "devices",
    "schemas",
]
