"""Devices (the projection of their events), minted QR IDs and label sheets."""
