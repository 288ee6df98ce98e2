"""Verifying events against their digests, chains, Merkle batches and the ledger."""
