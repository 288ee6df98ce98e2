"""The trusted ledger: the chain verification reads, its trust anchors, and why they disagree
(SPEC §3, trust anchors).

Every verification is given one ``TrustedLedger``. Built from the trust
anchors (``connection.reader``), it carries the chain to read and each
``LedgerProblem`` found when the chain, the registry or the database's record
of them differ from the anchors — or that the ledger could not be asked at
all. A ledger with a problem still verifies, but no event it checks is
"verified". What a person reads of a problem is derived from its kind and
data, so a status never depends on the words of a message.

Example::

    ledger = TrustedLedger.unavailable(LedgerUnavailable("connection refused"))
    ledger.problem        # 'ledger unavailable: connection refused'
    ledger.problems[0].kind is ProblemKind.UNAVAILABLE
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ledger.errors import (
    ChainMismatch,
    ContractMissing,
    LedgerError,
    TrustMismatch,
    TrustMissing,
)
from ledger.interface import Ledger
from ledger.verify import DEFAULT_MAX_ANCHOR_DELAY_S, TrustAnchors

__all__ = ["LedgerProblem", "ProblemKind", "TrustedLedger"]


class ProblemKind(enum.StrEnum):
    """What is wrong with the ledger a verification reads."""

    #: The node could not be asked at all: nothing can be checked.
    UNAVAILABLE = "unavailable"
    #: No trust anchors are configured or recorded, or they cannot be read.
    TRUST_MISSING = "trust_missing"
    #: The node serves another chain (chain id or genesis): reset or replaced.
    CHAIN_RESET = "chain_reset"
    #: No AnchorRegistry code at the trusted registry: the chain was reset.
    REGISTRY_MISSING = "registry_missing"
    #: The registry, its owner or a submitter is not the one the anchors name.
    UNTRUSTED = "untrusted"
    #: The database's record of the ledger (``ledger_meta``) names another one.
    DATABASE_MISMATCH = "database_mismatch"

    @property
    def is_reset(self) -> bool:
        """Whether the chain lost the anchors (``traceability anchor --repair`` cures it)."""
        return self in (ProblemKind.CHAIN_RESET, ProblemKind.REGISTRY_MISSING)


#: The ledger errors that say the chain is not the trusted one, by kind.
_KIND_OF_ERROR: tuple[tuple[type[LedgerError], ProblemKind], ...] = (
    (ChainMismatch, ProblemKind.CHAIN_RESET),
    (ContractMissing, ProblemKind.REGISTRY_MISSING),
    (TrustMissing, ProblemKind.TRUST_MISSING),
    (TrustMismatch, ProblemKind.UNTRUSTED),
)


@dataclass(frozen=True)
class LedgerProblem:
    """One reason the ledger read is not the trusted one.

    ``detail``: what was found, as the ledger's error or check words it;
    ``differences`` (database mismatch only): each value the database names
    instead of the trust anchors'.
    """

    kind: ProblemKind
    detail: str = ""
    differences: tuple[str, ...] = ()

    @classmethod
    def from_error(cls, error: LedgerError) -> LedgerProblem:
        """The problem a ledger error reports (one the node could not answer: unavailable)."""
        for error_type, kind in _KIND_OF_ERROR:
            if isinstance(error, error_type):
                return cls(kind, str(error))
        return cls(ProblemKind.UNAVAILABLE, str(error))

    @classmethod
    def database_mismatch(cls, differences: tuple[str, ...]) -> LedgerProblem:
        return cls(ProblemKind.DATABASE_MISMATCH, differences=differences)

    @property
    def text(self) -> str:
        """The problem as people read it (CLI, API ``problem`` strings, portal, public page)."""
        if self.kind is ProblemKind.UNAVAILABLE:
            return f"ledger unavailable: {self.detail}"
        if self.kind is ProblemKind.DATABASE_MISMATCH:
            return (
                "registry mismatch: the database (ledger_meta) names "
                + ", ".join(self.differences)
                + " — it was changed or points at another ledger; the trust anchors are not "
                "obeyed from it"
            )
        return self.detail


@dataclass(frozen=True)
class TrustedLedger:
    """What a verification reads the chain with: the trusted registry, or why it cannot be trusted.

    ``chain`` is None when no registry can be read (the ledger is off,
    unavailable or has no trust anchors); ``problems`` name every reason no
    event read from it may be "verified".
    """

    chain: Ledger | None = None
    trust: TrustAnchors | None = None
    problems: tuple[LedgerProblem, ...] = ()
    # How long after its recorded_at an event may be anchored and still be on time.
    max_delay_s: int = DEFAULT_MAX_ANCHOR_DELAY_S

    @classmethod
    def off(cls) -> TrustedLedger:
        """No ledger (TRACE_LEDGER_MODE=off): nothing is anchored, nothing is on chain."""
        return cls()

    @classmethod
    def unavailable(cls, error: LedgerError) -> TrustedLedger:
        """The ledger could not be opened: every verification is "unknown"."""
        return cls(problems=(LedgerProblem(ProblemKind.UNAVAILABLE, str(error)),))

    @classmethod
    def of_client(cls, chain: Ledger) -> TrustedLedger:
        """A bare client (tests, benchmarks): its own anchors are the ones accepted."""
        return cls(chain=chain)

    @property
    def problem(self) -> str | None:
        """Every problem as people read it, in one line (None: the ledger is trusted)."""
        return "; ".join(p.text for p in self.problems) or None

    @property
    def is_unavailable(self) -> bool:
        """Whether the ledger could not be asked, so no verification can be said at all."""
        return any(p.kind is ProblemKind.UNAVAILABLE for p in self.problems)

    @property
    def is_reset(self) -> bool:
        """Whether the chain lost the anchors (reset or replaced), whatever else is wrong."""
        return any(p.kind.is_reset for p in self.problems)

    @property
    def rpc_url(self) -> str:
        return self.chain.rpc_url if self.chain is not None else ""

    def accepted(self) -> frozenset[str] | None:
        """The lower-case submitters whose anchors count (None: any)."""
        if self.trust is not None:
            return frozenset(s.lower() for s in self.trust.submitters)
        if self.chain is None:
            return frozenset()
        own = self.chain.address
        return frozenset({own.lower()}) if own else None
