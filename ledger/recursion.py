"""Python's recursion limit, put back after web3's dependencies raise it.

Importing ``py_ecc`` (via eth_account, i.e. web3) sets the interpreter-wide
recursion limit to 100,000 and ``eth`` (py-evm, the in-process test chain)
to 12,288. A recursion that deep in C code (``json.loads`` of a body nested
100,000 deep, the repr of a deep structure) overflows the C stack and kills
the process, where the default limit would have raised ``RecursionError``.
Nothing this package or the application calls needs more than the default
(the pairing code of py_ecc that does is never used).
"""

from __future__ import annotations

import sys

#: CPython's default.
RECURSION_LIMIT = 1000


def restore_recursion_limit(limit: int = RECURSION_LIMIT) -> None:
    """Import web3's stack (so its import cannot raise the limit later), then set ``limit``."""
    import eth_account  # noqa: F401  (imports py_ecc)
    import web3  # noqa: F401

    sys.setrecursionlimit(limit)
