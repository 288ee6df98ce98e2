"""Anchoring events to the ledger in Merkle batches (SPEC §3)."""
