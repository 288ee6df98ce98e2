"""Append-only events: the state machine, custody checks and digests (SPEC §2.4, §3)."""
