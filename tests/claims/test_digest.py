"""The claim digest hashed device by device equals the digest of the whole canonical document."""

from __future__ import annotations

import hashlib
import random

import pytest

from traceability.claims.digest import claim_content, claim_digest, streamed_claim_digest

SCHEDULES = [
    {"id": "provincial-example", "sha256": "ab" * 32},
    {"id": "national-2021", "sha256": "cd" * 32},
]
LINES = [
    {"category": "tv", "tier": "crt_lt14", "schedule": "national-2021", "rate": 40,
     "units": 2, "amount": 80},
    {"category": "fridge", "tier": "all", "schedule": "provincial-example", "rate": 80,
     "units": 1, "amount": 80},
]  # fmt: skip


def devices(count: int, seed: int) -> list[tuple[str, str, int, list[str]]]:
    rng = random.Random(seed)
    ids = sorted(
        {"".join(rng.choices("0123456789ABCDEFGHJKMNPQRSTVWXYZ", k=14)) for _ in range(count)}
    )
    return [
        (
            qr_id,
            rng.choice(["crt_lt14", "all", "二级"]),  # a non-ASCII tier takes the checked path
            rng.choice([40, 80, 2**40]),
            [hashlib.sha256(f"{qr_id}{n}".encode()).hexdigest() for n in range(rng.randint(1, 6))],
        )
        for qr_id in ids
    ]


@pytest.mark.parametrize(("count", "seed"), [(0, 1), (1, 2), (7, 3), (500, 4)])
def test_streamed_digest_is_the_digest_of_the_whole_document(count: int, seed: int) -> None:
    listed = devices(count, seed)
    head = {"code": "DIS-苏州-2026Q3-1", "org": "DIS-1", "period": "2026Q3",
            "schedules": SCHEDULES, "lines": LINES}  # fmt: skip
    whole = claim_digest(claim_content(**head, devices=list(reversed(listed))))
    assert streamed_claim_digest(**head, devices=iter(listed)) == whole
    changed = [*listed[:-1], (*listed[-1][:3], ["00" * 32])] if listed else [("A", "all", 1, [])]
    assert streamed_claim_digest(**head, devices=changed) != whole


def test_devices_out_of_order_are_refused() -> None:
    listed = devices(3, 5)
    with pytest.raises(ValueError, match="QR ID order"):
        streamed_claim_digest(
            code="C", org="O", period="2026Q3", schedules=SCHEDULES, lines=LINES,
            devices=[listed[1], listed[0], listed[2]],
        )  # fmt: skip
