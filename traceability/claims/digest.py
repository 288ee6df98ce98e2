"""The claim digest: SHA-256 over the RFC 8785 canonical JSON of the claim (SPEC §2.6).

The canonical claim holds what the fund pays on and what proves it: the
plant, the period, every line (category, tier, schedule, rate, units,
amount), every device with its tier, rate and the digests of all its events,
and every schedule applied with its content hash. Submitting anchors this
digest; anyone holding an export recomputes it from the plant's records and
compares it with the anchored one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from ledger.canonical import canonical_value, digest_hex

_MAX_SAFE_INTEGER = 2**53 - 1
#: Bumped if the content below ever changes shape.
CANONICAL_VERSION = "claim-v1"


def claim_content(
    *,
    code: str,
    org: str,
    period: str,
    schedules: Sequence[Mapping[str, Any]],
    lines: Sequence[Mapping[str, Any]],
    devices: Iterable[tuple[str, str, int, Sequence[str]]],
    mode: str = "yuan",
    supplements: Sequence[str] | None = None,
) -> dict[str, Any]:
    """``devices``: (qr_id, tier, rate in yuan, event digests in recording order).

    A quantity certification (``mode`` = quantity: rates and amounts 0) names its mode, a
    supplement (补报) the claims it supplements; a claim in yuan that supplements nothing
    has neither member, so its digest is what it always was."""
    extra: dict[str, Any] = {}
    if mode != "yuan":
        extra["mode"] = str(mode)
    if supplements:
        extra["supplements"] = [str(code) for code in supplements]
    return extra | {
        "version": CANONICAL_VERSION,
        "claim": code,
        "org": org,
        "period": period,
        "schedules": sorted(
            ({"id": str(s["id"]), "sha256": str(s["sha256"])} for s in schedules),
            key=lambda s: s["id"],
        ),
        "lines": [
            {
                "category": str(line["category"]),
                "tier": str(line["tier"]),
                "schedule": str(line["schedule"]),
                "rate": int(line["rate"]),
                "units": int(line["units"]),
                "amount": int(line["amount"]),
            }
            for line in lines
        ],
        "total_yuan": sum(int(line["amount"]) for line in lines),
        "devices": sorted(
            [qr_id, tier, int(rate), list(digests)] for qr_id, tier, rate, digests in devices
        ),
    }


def claim_digest(content: Mapping[str, Any]) -> str:
    return digest_hex(content)


def streamed_claim_digest(
    *,
    code: str,
    org: str,
    period: str,
    schedules: Sequence[Mapping[str, Any]],
    lines: Sequence[Mapping[str, Any]],
    devices: Iterable[tuple[str, str, int, Sequence[str]]],
    mode: str = "yuan",
    supplements: Sequence[str] | None = None,
) -> str:
    """``claim_digest(claim_content(...))``, hashing device by device: a quarter's 100,000
    devices are never held as one document. ``devices`` must come in QR ID order."""
    hasher = StreamedClaimDigest(code)
    for device in devices:
        hasher.add(*device)
    return hasher.finish(
        org=org, period=period, schedules=schedules, lines=lines, mode=mode,
        supplements=supplements,
    )  # fmt: skip


class DevicesOutOfOrder(ValueError):
    """The devices did not come in QR ID order (the canonical form sorts them)."""


class StreamedClaimDigest:
    """The claim digest fed device by device, the lines and schedules given last, so that
    a replay can derive the lines from the same pass over the devices (SPEC §3).

    RFC 8785 writes an object's members in key order, and ``claim`` sorts before
    ``devices``, which sorts before every other key: so the canonical bytes are
    the claim member, the devices array written element by element, then the
    other members.
    """

    def __init__(self, code: str) -> None:
        self._code = code
        self._hasher = hashlib.sha256(b'{"claim":' + canonical_value(code) + b',"devices":[')
        self._previous: str | None = None

    def add(self, qr_id: str, tier: str, rate: int, digests: Sequence[str]) -> None:
        previous = self._previous
        if previous is not None and qr_id <= previous:
            raise DevicesOutOfOrder(f"devices must come in QR ID order: {qr_id} after {previous}")
        whole, listed = int(rate), list(digests)
        entry = [qr_id, tier, whole, listed]
        # Strings and safe integers only: orjson writes them exactly as RFC 8785 does
        # (``canonical_value``'s fast path, without its generic walk: 100,000 devices a claim).
        plain = (
            type(qr_id) is str
            and type(tier) is str
            and -_MAX_SAFE_INTEGER <= whole <= _MAX_SAFE_INTEGER
            and all(type(d) is str for d in listed)
        )
        encoded = orjson.dumps(entry) if plain else canonical_value(entry)
        self._hasher.update(b"," + encoded if previous is not None else encoded)
        self._previous = qr_id

    def finish(
        self,
        *,
        org: str,
        period: str,
        schedules: Sequence[Mapping[str, Any]],
        lines: Sequence[Mapping[str, Any]],
        mode: str = "yuan",
        supplements: Sequence[str] | None = None,
    ) -> str:
        rest = claim_content(
            code=self._code, org=org, period=period, schedules=schedules, lines=lines,
            devices=(), mode=mode, supplements=supplements,
        )  # fmt: skip
        rest.pop("claim")
        assert rest.pop("devices") == [] and all(key > "devices" for key in rest)
        self._hasher.update(b"]," + canonical_value(rest)[1:])
        return self._hasher.hexdigest()


class StreamedExclusionsDigest:
    """SHA-256 over the canonical JSON array of a claim's excluded devices, each
    ``[qr_id, category, reasons]`` in QR ID order: anchored with the submission, so the
    exclusions and their reasons are replayed too (SPEC §2.6, §3)."""

    def __init__(self) -> None:
        self._hasher = hashlib.sha256(b"[")
        self._previous: str | None = None
        self.count = 0

    def add(self, qr_id: str, category: str | None, reasons: Sequence[Sequence[str]]) -> None:
        previous = self._previous
        if previous is not None and qr_id <= previous:
            raise DevicesOutOfOrder(f"devices must come in QR ID order: {qr_id} after {previous}")
        self._hasher.update((b"," if previous is not None else b"") + canonical_value(
            [qr_id, category, [list(r) for r in reasons]]
        ))  # fmt: skip
        self._previous = qr_id
        self.count += 1

    def finish(self) -> str:
        self._hasher.update(b"]")
        return self._hasher.hexdigest()


class StreamedFlagsDigest:
    """SHA-256 over the canonical JSON array of a claim's flagged devices, each
    ``[qr_id, [[flag, detail], ...]]`` in QR ID order: anchored with the submission, so the
    row flags are replayed too (SPEC §2.6, §3)."""

    def __init__(self) -> None:
        self._hasher = hashlib.sha256(b"[")
        self._previous: str | None = None
        self.by_flag: dict[str, int] = {}

    def add(self, qr_id: str, flags: Sequence[Sequence[str]] | None) -> None:
        if not flags:
            return
        previous = self._previous
        if previous is not None and qr_id <= previous:
            raise DevicesOutOfOrder(f"devices must come in QR ID order: {qr_id} after {previous}")
        self._hasher.update((b"," if previous is not None else b"") + canonical_value(
            [qr_id, [[str(f[0]), str(f[1])] for f in flags]]
        ))  # fmt: skip
        self._previous = qr_id
        for flag in flags:
            self.by_flag[str(flag[0])] = self.by_flag.get(str(flag[0]), 0) + 1

    def finish(self) -> str:
        self._hasher.update(b"]")
        return self._hasher.hexdigest()
