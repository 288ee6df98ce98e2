"""Organisations, users, roles and API tokens (SPEC §2.1)."""
