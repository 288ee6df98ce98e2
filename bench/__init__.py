"""Benchmarks (SPEC §6): throughput as a ratio against a baseline measured in the same run.

Run them all with ``python -m bench`` (``make bench``); ``python -m bench --help``
lists the flags. Benchmarks report; they never fail the build.
"""
