"""Devices: the ``device`` table is the projection of their events (SPEC §2.2).

What a device is comes from its events (``custody``); ``models.Device``
holds the latest state for fast look-ups and ``services.get_device`` finds
one by any form of its QR ID. Example::

    from traceability.devices.services import get_device

    device = get_device(session, "d3rx-q0c1-1f09-z0")  # grouped, lower case or a label URL
    device.state, device.custodian
"""

__all__ = [
    "models",
    "services",
]
