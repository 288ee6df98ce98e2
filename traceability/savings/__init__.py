"""Processing batches and their environmental savings (SPEC §2.5)."""
