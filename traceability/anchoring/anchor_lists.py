"""Each submitter's anchors, read from the chain once per chain head, kept in this process.

SPEC §3 "Contract": every anchor a submitter made is enumerated from the
registry's storage. /portal/ledger lists them all; reading every one on each
view was linear in the anchors (4 s at 309, issue 15 finding 10). The
registry's list per submitter only grows and an anchor's record never
changes, so what was read at a block stays true for as long as that block is
in the chain: at the same head (number and hash) a view makes no eth_call;
at a later head it checks, by its hash, that the block it read at is still
the chain's and reads only the anchors added since. A reorg or a reset chain
changes that hash and everything is read again.

Kept in memory per process, a few lists at most (SPEC §3 "Trust anchors":
the database may cache but is never obeyed; nothing here is written where a
database administrator could edit it).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from ledger.interface import AnchorRecord, Ledger

#: Lists kept (one per node, registry and submitter): a deployment trusts a handful.
MAX_LISTS = 16


@dataclass(frozen=True)
class _Read:
    block_number: int
    block_hash: str
    records: tuple[AnchorRecord, ...]


class AnchorLists:
    """The anchor lists read so far, least recently used dropped first."""

    def __init__(self, max_lists: int = MAX_LISTS) -> None:
        self.max_lists = max_lists
        self._reads: OrderedDict[tuple[str, str, str], _Read] = OrderedDict()
        self._lock = threading.Lock()

    def anchors_of(self, chain: Ledger, submitter: str) -> list[AnchorRecord]:
        """``chain.anchors_of(submitter)``, reading only what this process has not read."""
        key = (chain.rpc_url, (chain.contract_address or "").lower(), submitter.lower())
        number = chain.block_number()
        head = chain.block_hash(number)
        with self._lock:
            cached = self._reads.get(key)
        if cached is not None and (cached.block_number, cached.block_hash) == (number, head):
            return list(cached.records)
        known: tuple[AnchorRecord, ...] = ()
        if (
            cached is not None
            and cached.block_number <= number
            and chain.block_hash(cached.block_number) == cached.block_hash
        ):
            known = cached.records
        records = known + tuple(chain.anchors_of(submitter, start=len(known), block=number))
        if head is not None:
            with self._lock:
                self._reads[key] = _Read(number, head, records)
                self._reads.move_to_end(key)
                while len(self._reads) > self.max_lists:
                    self._reads.popitem(last=False)
        return list(records)
