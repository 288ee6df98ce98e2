"""The export cells written for every device, computed the fast way, are the exact texts."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from traceability.claims.exports.rows import kg_text
from traceability.periods import CHINA, beijing_text


def test_kg_text_is_the_decimal_text_of_grams_over_a_thousand() -> None:
    rng = random.Random(7)
    grams = [0, 1, 5, 10, 25, 100, 999, 1000, 1001, 1500, 3000, 10_000, 123_456_789]
    grams += [rng.randrange(0, 2_000_000) for _ in range(5_000)]
    for g in grams:
        assert kg_text(g) == str(Decimal(g) / 1000), g
    assert kg_text(-1500) == str(Decimal(-1500) / 1000)


def test_beijing_text_is_the_china_time_to_the_second() -> None:
    rng = random.Random(8)
    for _ in range(1_000):
        when = dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
            seconds=rng.randrange(0, 400_000_000), microseconds=rng.randrange(0, 1_000_000)
        )
        assert beijing_text(when) == when.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
