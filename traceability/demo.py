"""The demo data set: a quarter (2026Q3) of activity at three licensed plants.

Organisations, users and tokens are created with the account services; every
device and lot step goes through ``record_events``, so each event is hashed
and chained by the real code path. The quarter is replayed day by day: each
handheld syncs its day's scans at the end of the shift (``now`` = 18:30 China
time), so ``recorded_at`` follows ``occurred_at`` the way it would in a plant,
and the back-dating audit check only fires on the records planted for it.

A few anomalies are planted on purpose, for the audit portal: duplicate
serials, devices lost in transit, re-weighed intakes, dismantlings that break
the regular-dismantling rules or the mass balance, a line-day entered weeks
late, and hazardous lots whose receipt is never confirmed.

Deterministic for a given seed, except QR IDs and API tokens (random by design).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import func
from sqlmodel import Session, col, select
from tqdm import tqdm

from traceability.accounts import services as accounts
from traceability.accounts.models import Organisation
from traceability.catalog.models import Catalog
from traceability.catalog.services import required_fractions
from traceability.custody.ingest import record_events
from traceability.custody.models import Event
from traceability.db import Database
from traceability.devices.models import Device
from traceability.lots.models import Lot
from traceability.savings.models import Batch

PASSWORD = "demo-pass-2026"
CST = dt.timezone(dt.timedelta(hours=8), "CST")
QUARTER = "2026Q3"
FIRST_DAY, LAST_DAY = dt.date(2026, 7, 1), dt.date(2026, 9, 30)
HOLIDAYS = {dt.date(2026, 9, 25)}  # 中秋节
SYNC_AT = dt.time(18, 30)
CHUNK = 500


# -- organisations and people ----------------------------------------------


@dataclass(frozen=True)
class OrgSpec:
    code: str
    kind: str
    name: str
    region: str
    users: tuple[tuple[str, str], ...]  # (username, role)
    license_no: str | None = None
    capacity: int | None = None


def _plant(
    code: str, name: str, region: str, license_no: str, capacity: int, short: str
) -> OrgSpec:
    users = (
        (f"{short}.manager", "manager"),
        (f"{short}.intake", "operator"),
        (f"{short}.line1", "operator"),
        (f"{short}.line2", "operator"),
        (f"{short}.line3", "operator"),
    )
    return OrgSpec(code, "dismantler", name, region, users, license_no, capacity)


def _team(code: str, kind: str, name: str, region: str, short: str) -> OrgSpec:
    return OrgSpec(
        code, kind, name, region, ((f"{short}.manager", "manager"), (f"{short}.op", "operator"))
    )


# Invented names in the usual style; none is meant to be a real company.
ORGS: tuple[OrgSpec, ...] = (
    _plant("DIS-SZ01", "苏州澄湖再生资源有限公司", "320500", "JSFD-3205-003", 2_200_000, "sz"),
    _plant("DIS-BJ01", "北京京燕再生资源利用有限公司", "110000", "BJFD-1100-002", 1_200_000, "bj"),
    _plant("DIS-GZ01", "广州穗华再生资源科技有限公司", "440100", "GDFD-4401-005", 1_800_000, "gz"),
    _team("COL-SZ01", "collector", "苏州市吴中区绿邻再生资源回收站", "320506", "szwz"),
    _team("COL-WX01", "collector", "无锡市梁溪区惠众再生资源回收有限公司", "320213", "wxlx"),
    _team("COL-BJ01", "collector", "北京市朝阳区惠邻再生资源回收站", "110105", "bjcy"),
    _team("COL-BJ02", "collector", "北京市丰台区顺旺再生资源回收有限公司", "110106", "bjft"),
    _team("COL-GZ01", "collector", "广州市天河区穗绿再生资源回收站", "440106", "gzth"),
    _team("PRO-AH01", "processor", "界首市皖淮铅玻璃再生利用有限公司", "341282", "ahjs"),
    _team("PRO-QY01", "processor", "清远市粤清环保科技有限公司", "441800", "qyhb"),
    OrgSpec(
        "REG-JS",
        "regulator",
        "江苏省生态环境厅",
        "320000",
        (("js.auditor", "auditor"), ("js.auditor2", "auditor"), ("demo.admin", "admin")),
    ),
    OrgSpec("REG-BJ", "regulator", "北京市生态环境局", "110000", (("bj.auditor", "auditor"),)),
)
PLANTS = {"DIS-SZ01": "sz", "DIS-BJ01": "bj", "DIS-GZ01": "gz"}
PLANT_SHARE = {"DIS-SZ01": 0.40, "DIS-GZ01": 0.35, "DIS-BJ01": 0.25}
COLLECTORS = {  # collector → (plant it delivers to, its share of that plant, truck weekdays)
    "COL-SZ01": ("DIS-SZ01", 0.6, {1, 4}),
    "COL-WX01": ("DIS-SZ01", 0.4, {2}),
    "COL-BJ01": ("DIS-BJ01", 0.5, {0, 3}),
    "COL-BJ02": ("DIS-BJ01", 0.5, {2}),
    "COL-GZ01": ("DIS-GZ01", 1.0, {1, 3}),
}
DIRECT_SHARE = 0.2  # business and public lots delivered straight to the plant
# Hazardous lots go out on a fixed weekday: (weekday, every other week?).
LOT_SHIPPING = {"DIS-SZ01": (3, True), "DIS-BJ01": (1, True), "DIS-GZ01": (4, False)}
RECEIVER = {
    "crt_funnel_glass": "PRO-AH01",
    "crt_panel_glass": "PRO-AH01",
    "pcb": "PRO-QY01",
    "battery": "PRO-QY01",
    "ccfl_backlight": "PRO-QY01",
    "refrigerant": "PRO-QY01",
}
TREATMENT = {
    "crt_funnel_glass": "含铅玻璃火法冶炼回收铅",
    "crt_panel_glass": "CRT屏玻璃清洗破碎再生",
    "pcb": "破碎分选后火法冶炼回收铜金银",
    "battery": "放电破碎湿法回收钴锂镍",
    "ccfl_backlight": "含汞灯管破碎蒸馏回收汞",
    "refrigerant": "制冷剂回收提纯，余量高温焚烧",
}
TRANSIT_DAYS = {
    "PRO-AH01": {"DIS-SZ01": 2, "DIS-BJ01": 3, "DIS-GZ01": 3},
    "PRO-QY01": {"DIS-SZ01": 2, "DIS-BJ01": 3, "DIS-GZ01": 1},
}

# -- devices -----------------------------------------------------------------

SHARES = {  # share of units by category (TVs, washers, fridges, ACs, PCs dominate)
    "tv": 34,
    "washing_machine": 17,
    "refrigerator": 13,
    "air_conditioner": 10,
    "microcomputer": 13,
    "monitor": 2.5,
    "mobile_phone": 2.5,
    "printer": 1.8,
    "range_hood": 1.6,
    "electric_water_heater": 1.6,
    "gas_water_heater": 1.0,
    "telephone": 0.9,
    "copier": 0.6,
    "fax": 0.5,
}
LINES = {
    "tv": "L1",
    "monitor": "L1",
    "refrigerator": "L2",
    "air_conditioner": "L2",
    "electric_water_heater": "L2",
    "gas_water_heater": "L2",
}  # others: L3
AREAS = {"L1": "A区-显示类", "L2": "B区-制冷及热水器", "L3": "C区-洗衣机及小家电"}
BRANDS = {
    "tv": ["海信", "创维", "TCL", "长虹", "康佳", "小米", "索尼", "三星", "夏普", "熊猫"],
    "refrigerator": ["海尔", "美的", "容声", "美菱", "西门子", "新飞", "澳柯玛", "松下"],
    "washing_machine": ["海尔", "小天鹅", "美的", "西门子", "松下", "荣事达", "海信", "LG"],
    "air_conditioner": ["格力", "美的", "海尔", "奥克斯", "志高", "海信", "大金", "长虹"],
    "microcomputer": ["联想", "戴尔", "惠普", "华硕", "宏碁", "苹果", "华为", "方正", "清华同方"],
    "range_hood": ["方太", "老板", "华帝", "帅康"],
    "electric_water_heater": ["海尔", "美的", "史密斯", "万和"],
    "gas_water_heater": ["万和", "万家乐", "林内", "能率"],
    "printer": ["惠普", "佳能", "爱普生", "兄弟"],
    "copier": ["理光", "佳能", "柯尼卡美能达", "夏普", "京瓷"],
    "fax": ["松下", "兄弟", "佳能"],
    "monitor": ["戴尔", "三星", "飞利浦", "AOC", "优派"],
    "mobile_phone": ["华为", "小米", "OPPO", "vivo", "苹果", "三星", "诺基亚", "荣耀"],
    "telephone": ["步步高", "中诺", "飞利浦", "TCL", "松下"],
}
TYPOS = {"海信": "海心", "创维": "创唯", "美的": "美地", "海尔": "海耳", "格力": "格丽"}
# Nominal output shares (% of intake weight) per kind of device; jittered per
# device and scaled so the outputs sum to 86–97 % of the weighed input.
RECIPES: dict[str, list[tuple[str, float]]] = {
    "crt": [
        ("crt_panel_glass", 38),
        ("crt_funnel_glass", 19),
        ("pcb", 7),
        ("plastics", 20),
        ("ferrous_metal", 5),
        ("copper", 3),
        ("cables", 1),
    ],
    "flat": [
        ("lcd_panel", 30),
        ("pcb", 9),
        ("plastics", 28),
        ("ferrous_metal", 18),
        ("aluminium", 4),
        ("cables", 1),
    ],
    "flat_ccfl": [
        ("lcd_panel", 29),
        ("ccfl_backlight", 1),
        ("pcb", 9),
        ("plastics", 28),
        ("ferrous_metal", 18),
        ("aluminium", 4),
        ("cables", 1),
    ],
    "fridge": [
        ("compressor", 17),
        ("refrigerant", 0.25),
        ("pu_foam", 12),
        ("ferrous_metal", 38),
        ("plastics", 18),
        ("copper", 2),
        ("aluminium", 1.5),
        ("glass_other", 3),
        ("pcb", 0.6),
    ],
    "ac": [
        ("compressor", 27),
        ("refrigerant", 2),
        ("copper", 12),
        ("aluminium", 9),
        ("ferrous_metal", 28),
        ("plastics", 10),
        ("pcb", 1.5),
        ("motor", 4),
    ],
    "washer": [
        ("motor", 10),
        ("ferrous_metal", 33),
        ("plastics", 36),
        ("pcb", 1),
        ("other", 12),
        ("cables", 1),
    ],
    "desktop": [
        ("pcb", 14),
        ("ferrous_metal", 52),
        ("plastics", 10),
        ("aluminium", 4),
        ("copper", 3),
        ("cables", 4),
        ("other", 6),
    ],
    "all_in_one": [
        ("pcb", 12),
        ("lcd_panel", 22),
        ("ferrous_metal", 25),
        ("plastics", 18),
        ("aluminium", 8),
        ("cables", 2),
    ],
    "laptop": [
        ("pcb", 15),
        ("battery", 14),
        ("lcd_panel", 12),
        ("plastics", 32),
        ("aluminium", 9),
        ("ferrous_metal", 6),
        ("copper", 2),
    ],
    "tablet": [
        ("battery", 25),
        ("lcd_panel", 18),
        ("glass_other", 12),
        ("pcb", 12),
        ("aluminium", 20),
        ("plastics", 5),
    ],
    "range_hood": [
        ("ferrous_metal", 66),
        ("motor", 14),
        ("plastics", 8),
        ("aluminium", 4),
        ("pcb", 1),
        ("cables", 1),
        ("glass_other", 2),
    ],
    "ewh": [
        ("ferrous_metal", 70),
        ("pu_foam", 9),
        ("copper", 3),
        ("plastics", 6),
        ("pcb", 1),
        ("other", 4),
    ],
    "gwh": [("ferrous_metal", 52), ("copper", 24), ("aluminium", 5), ("pcb", 3), ("plastics", 6)],
    "printer": [
        ("plastics", 55),
        ("ferrous_metal", 20),
        ("motor", 6),
        ("pcb", 6),
        ("other", 6),
        ("cables", 1),
    ],
    "copier": [
        ("ferrous_metal", 50),
        ("plastics", 24),
        ("aluminium", 5),
        ("motor", 5),
        ("pcb", 5),
        ("glass_other", 2),
        ("other", 4),
    ],
    "fax": [("plastics", 60), ("pcb", 14), ("motor", 5), ("ferrous_metal", 10), ("other", 4)],
    "phone": [
        ("battery", 24),
        ("pcb", 28),
        ("plastics", 22),
        ("glass_other", 10),
        ("lcd_panel", 8),
        ("other", 4),
    ],
    "telephone": [("pcb", 20), ("plastics", 62), ("cables", 8), ("other", 4)],
}
MINUTES = {
    "crt": 7,
    "flat": 10,
    "flat_ccfl": 11,
    "fridge": 16,
    "ac": 20,
    "washer": 12,
    "desktop": 8,
    "all_in_one": 8,
    "laptop": 6,
    "tablet": 5,
    "range_hood": 10,
    "ewh": 12,
    "gwh": 10,
    "printer": 8,
    "copier": 25,
    "fax": 6,
    "phone": 3,
    "telephone": 3,
}
CRT_KG = {10: 6, 12: 8, 14: 10, 17: 14, 21: 25, 25: 33, 29: 45, 34: 68}


def _pick(rng: random.Random, table: dict[Any, float]) -> Any:
    return rng.choices(list(table), weights=list(table.values()))[0]


def _draw(rng: random.Random, category: str) -> tuple[str, dict[str, Any], float]:
    """A plausible device: (recipe kind, catalogue attributes, true weight in kg)."""
    u = rng.uniform
    if category == "tv":
        if rng.random() < 0.4:
            size = _pick(rng, {10: 1, 12: 2, 14: 8, 17: 6, 21: 30, 25: 20, 29: 25, 34: 8})
            return "crt", {"display": "crt", "screen_in": size}, CRT_KG[size] * u(0.92, 1.08)
        size = _pick(
            rng, {24: 6, 32: 30, 39: 6, 42: 18, 43: 10, 48: 5, 50: 6, 55: 12, 65: 6, 75: 1}
        )
        kind = "flat_ccfl" if rng.random() < 0.45 else "flat"
        return kind, {"display": "flat", "screen_in": size}, (3 + 0.0055 * size**2) * u(0.9, 1.1)
    if category == "refrigerator":
        low, high = _pick(
            rng, {(40, 49): 4, (50, 120): 10, (121, 300): 60, (301, 500): 20, (520, 650): 6}
        )
        volume = rng.randint(low, high)
        return "fridge", {"volume_l": volume}, (12 + 0.18 * volume) * u(0.9, 1.1)
    if category == "washing_machine":
        kind = _pick(
            rng, {"twin_tub": 25, "top_load_auto": 45, "drum": 25, "single_tub": 3, "spin_dryer": 2}
        )
        loads = {
            "twin_tub": (5.0, 10.5),
            "top_load_auto": (4.5, 9.0),
            "drum": (6.0, 12.0),
            "single_tub": (2.5, 5.0),
            "spin_dryer": (2.0, 4.5),
        }[kind]
        load = round(rng.uniform(*loads) * 2) / 2
        base = {
            "twin_tub": 20,
            "top_load_auto": 28,
            "drum": 55,
            "single_tub": 12,
            "spin_dryer": 10,
        }[kind]
        return (
            "washer",
            {"type": kind, "dry_load_kg": f"{load:.1f}"},
            (base + 1.5 * load) * u(0.9, 1.1),
        )
    if category == "air_conditioner":
        form = _pick(rng, {"split": 78, "integral": 12, "multi_split": 10})
        watts, (base, per_w) = {
            "split": ([2300, 2600, 3200, 3500, 5000, 5100, 7200], (22, 0.0075)),
            "integral": ([1600, 1800, 2300, 2500], (30, 0.004)),
            "multi_split": ([10000, 12000, 14000, 16000, 18000], (60, 0.006)),
        }[form]
        cooling = rng.choice(watts)
        return "ac", {"form": form, "cooling_w": cooling}, (base + per_w * cooling) * u(0.9, 1.1)
    if category == "microcomputer":
        form = _pick(rng, {"desktop": 42, "all_in_one": 8, "laptop": 42, "tablet": 7, "palmtop": 1})
        kg = {
            "desktop": (7, 11),
            "all_in_one": (6, 10),
            "laptop": (1.2, 3.2),
            "tablet": (0.3, 0.7),
            "palmtop": (0.15, 0.3),
        }[form]
        kind = {"palmtop": "tablet"}.get(form, form)
        return kind, {"form": form}, u(*kg)
    if category == "monitor":
        if rng.random() < 0.3:
            return "crt", {}, u(12, 17)
        return "flat_ccfl", {}, u(2.5, 6)
    if category == "printer":
        return "printer", {}, u(4, 7) if rng.random() < 0.6 else u(8, 22)
    simple = {
        "range_hood": ("range_hood", 14, 24),
        "electric_water_heater": ("ewh", 15, 32),
        "gas_water_heater": ("gwh", 8, 14),
        "copier": ("copier", 45, 160),
        "fax": ("fax", 3, 6),
        "mobile_phone": ("phone", 0.08, 0.22),
        "telephone": ("telephone", 0.4, 1.2),
    }
    kind, low_kg, high_kg = simple[category]
    return kind, {}, u(low_kg, high_kg)


def _kg(grams: int) -> str:
    return f"{grams // 1000}.{grams % 1000:03d}"


def _at(day: dt.date, minutes: float) -> dt.datetime:
    """``minutes`` after midnight of ``day``, China time, to the second."""
    return dt.datetime.combine(day, dt.time(), CST) + dt.timedelta(seconds=int(minutes * 60))


def _stamp(when: dt.datetime) -> str:
    return when.isoformat(timespec="seconds")


# -- the plan: one record per device -------------------------------------------


@dataclass
class Unit:
    index: int
    category: str
    kind: str
    attributes: dict[str, Any]
    weight_g: int
    plant: str
    collector: str | None  # None: collected at the plant itself
    collected_day: int
    collected_at: dt.datetime
    brand: str | None = None
    serial: str | None = None
    source: str | None = None
    shipped_day: int | None = None
    received_day: int | None = None
    received_at: dt.datetime | None = None
    dismantled_day: int | None = None
    dismantled_at: dt.datetime | None = None
    reweigh_g: int = 0  # pallet weight wrongly included at intake, then corrected
    brand_typo: bool = False
    drop: str | None = None  # a required fraction left unreported
    share: float = 0.0  # outputs / intake
    late_sync_day: int | None = None


@dataclass
class Plan:
    days: list[dt.date]
    units: list[Unit]
    planted: Counter[str] = field(default_factory=Counter)


def _working_days() -> list[dt.date]:
    day, days = FIRST_DAY, []
    while day <= LAST_DAY:
        if day.weekday() < 5 and day not in HOLIDAYS:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _quotas(n: int) -> list[str]:
    if n < 2 * len(SHARES):  # too few for proportions: one of each in turn
        return [c for _, c in zip(range(n), itertools.cycle(SHARES))]
    total = sum(SHARES.values())
    counts = {c: max(2, round(n * s / total)) for c, s in SHARES.items()}
    while sum(counts.values()) > n and counts["tv"] > 2:
        counts["tv"] -= 1
    counts["tv"] += n - sum(counts.values())
    return [c for c, k in counts.items() for _ in range(k)]


def plan_units(n: int, rng: random.Random, catalog: Catalog) -> Plan:
    days = _working_days()
    last = len(days) - 1
    categories = _quotas(n)
    rng.shuffle(categories)
    units = []
    for index, category in enumerate(categories):
        kind, attributes, kg = _draw(rng, category)
        plant = _pick(rng, PLANT_SHARE)
        direct = rng.random() < DIRECT_SHARE
        collector = (
            None
            if direct
            else _pick(rng, {c: share for c, (p, share, _) in COLLECTORS.items() if p == plant})
        )
        day = rng.randint(0, last)
        opening = rng.uniform(510, 960 if direct else 1020)  # plants take deliveries until 16:00
        unit = Unit(
            index=index,
            category=category,
            kind=kind,
            attributes=attributes,
            weight_g=max(1, round(kg * 1000)),
            plant=plant,
            collector=collector,
            collected_day=day,
            collected_at=_at(days[day], opening),
        )
        if rng.random() < 0.85:
            unit.brand = rng.choice(BRANDS[category])
        if rng.random() < 0.35:
            unit.serial = "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=2)) + str(
                rng.randrange(10**9, 10**10)
            )
        if rng.random() < 0.9:
            office = category in ("printer", "copier", "fax")
            unit.source = _pick(
                rng,
                {"household": 20, "business": 60, "public": 20}
                if office
                else {"household": 55, "trade_in": 30, "business": 10, "public": 5},
            )
        _plan_route(unit, days, rng)
        units.append(unit)
    plan = Plan(days=days, units=units)
    _plant_anomalies(plan, rng, catalog)
    return plan


def _plan_route(unit: Unit, days: list[dt.date], rng: random.Random) -> None:
    last = len(days) - 1
    if unit.collector is None:
        arrival = unit.collected_at + dt.timedelta(minutes=rng.uniform(3, 20))
        if unit.collected_day == last and arrival.hour >= 15:
            return  # not weighed before the quarter closed
        unit.received_day, unit.received_at = unit.collected_day, arrival
    else:
        truck_days = COLLECTORS[unit.collector][2]
        ship = next(
            (d for d in range(unit.collected_day + 1, last + 1) if days[d].weekday() in truck_days),
            None,
        )
        if ship is None:
            return  # still at the collection point
        unit.shipped_day = ship
        if ship == last:
            return  # on the truck over the National Day holiday
        unit.received_day = ship + 1
        unit.received_at = _at(days[ship + 1], rng.uniform(510, 690))
    dismantle = unit.received_day + 1 + int(rng.expovariate(1 / 5))
    if dismantle <= last:
        unit.dismantled_day = dismantle
    unit.share = rng.uniform(0.86, 0.97)


def _plant_anomalies(plan: Plan, rng: random.Random, catalog: Catalog) -> None:
    units, n, last = plan.units, len(plan.units), len(plan.days) - 1

    def some_of(candidates: Sequence[Any], k: int) -> list[Any]:
        return rng.sample(list(candidates), min(k, len(candidates)))

    def some(candidates: Sequence[Unit], k: int, label: str) -> list[Unit]:
        chosen = some_of(candidates, k)
        plan.planted[label] += len(chosen)
        return chosen

    for unit in some(
        [
            u
            for u in units
            if u.shipped_day is not None and u.collector and u.shipped_day < last * 2 // 3
        ],
        max(2, n // 1500),
        "lost in transit",
    ):
        unit.received_day = unit.received_at = unit.dismantled_day = None
    for unit in some(
        [
            u
            for u in units
            if u.received_day is not None
            and u.category in ("tv", "refrigerator", "washing_machine", "air_conditioner")
        ],
        max(2, n // 200),
        "re-weighed intake (corrected)",
    ):
        unit.reweigh_g = rng.randint(80, 150) * 100
    for unit in some(
        [u for u in units if u.collector and u.shipped_day is not None and u.brand in TYPOS],
        max(1, n // 1000),
        "brand typo (corrected)",
    ):
        unit.brand_typo = True
    by_category: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        if unit.serial:
            by_category[unit.category].append(unit)
    pairs = [c for c in sorted(by_category) if len(by_category[c]) >= 2]
    for category in some_of(pairs, max(2, n // 1000)):
        first, second = rng.sample(by_category[category], 2)
        second.serial, second.brand = first.serial, first.brand  # same nameplate twice
        plan.planted["duplicated serial (pairs)"] += 1
    dismantled = [u for u in units if u.dismantled_day is not None]
    ruled = [u for u in dismantled if required_fractions(catalog, u.category, u.attributes)]
    for unit in some(ruled, max(2, n // 150), "irregular dismantling (required output missing)"):
        unit.drop = rng.choice(sorted(required_fractions(catalog, unit.category, unit.attributes)))
    for unit in some(dismantled, max(1, n // 500), "mass balance below 65 %"):
        unit.share = rng.uniform(0.45, 0.62)
    _plan_dismantling(plan, rng)


def _plan_dismantling(plan: Plan, rng: random.Random) -> None:
    """Times on each line-day; one line-day at Beijing entered three weeks late."""
    line_days: dict[tuple[str, int, str], list[Unit]] = defaultdict(list)
    for unit in plan.units:
        if unit.dismantled_day is not None:
            line = LINES.get(unit.category, "L3")
            line_days[unit.plant, unit.dismantled_day, line].append(unit)
    for (_, day, _), queue in sorted(line_days.items()):
        queue.sort(key=lambda u: (u.received_at, u.index))
        durations = [MINUTES[u.kind] * rng.uniform(0.7, 1.3) for u in queue]
        squeeze = min(1.0, 540 / sum(durations))  # fit the shift, 08:30–17:30
        clock = 510 + rng.uniform(0, 20)
        for unit, minutes in zip(queue, durations, strict=True):
            clock += minutes * squeeze
            unit.dismantled_at = _at(plan.days[day], clock)
    late = sorted(k for k in line_days if k[0] == "DIS-BJ01" and 22 <= k[1] <= 40)
    if late:
        key = rng.choice(late)
        for unit in line_days[key]:
            unit.late_sync_day = min(key[1] + 15, len(plan.days) - 1)
        plan.planted["dismantlings entered 15 working days late"] += len(line_days[key])


# -- turning the plan into events ----------------------------------------------


@dataclass
class Step:
    """One event to submit: the day it syncs, by whom, and when it happened."""

    day: int
    user: str
    when: dt.datetime
    item: dict[str, Any]
    unit: int | None = None  # the device, by plan index; None for lot events


RESOLVE = frozenset({"shipped", "received", "stored", "dismantled"})  # items naming a qr_id


def _outputs(unit: Unit, rng: random.Random, received_g: int) -> list[dict[str, str]]:
    recipe = [(f, s * rng.uniform(0.8, 1.2)) for f, s in RECIPES[unit.kind]]
    total = sum(s for _, s in recipe)
    grams = {f: max(1, round(received_g * unit.share * s / total)) for f, s in recipe}
    if unit.drop:
        lost = grams.pop(unit.drop, 0)
        if unit.drop != "refrigerant":  # vented refrigerant leaves no output at all
            sink = "glass_other" if unit.drop.startswith("crt_") else "other"
            grams[sink] = grams.get(sink, 0) + lost
    return [{"fraction": f, "weight_kg": _kg(g)} for f, g in grams.items()]


def _new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def device_steps(plan: Plan, rng: random.Random) -> Iterator[Step]:
    days = plan.days
    for unit in plan.units:
        collector_op = (
            f"{PLANTS[unit.plant]}.intake"
            if unit.collector is None
            else f"{_short(unit.collector)}.op"
        )
        intake = f"{PLANTS[unit.plant]}.intake"
        collected_id = _new_id(rng)
        item: dict[str, Any] = {
            "id": collected_id,
            "type": "collected",
            "category": unit.category,
            "attributes": unit.attributes,
            "occurred_at": _stamp(unit.collected_at),
        }
        if unit.collector and rng.random() < 0.6:  # estimated on the collection point's scale
            item["weight_kg"] = _kg(max(100, round(unit.weight_g / 500) * 500))
        if unit.brand:
            item["brand"] = TYPOS[unit.brand] if unit.brand_typo else unit.brand
        for name in ("serial", "source"):
            if getattr(unit, name):
                item[name] = getattr(unit, name)
        yield Step(unit.collected_day, collector_op, unit.collected_at, item, unit.index)
        head = unit.collected_at
        if unit.brand_typo:
            head += dt.timedelta(minutes=rng.uniform(5, 60))
            yield Step(
                unit.collected_day,
                collector_op,
                head,
                {
                    "id": _new_id(rng),
                    "type": "corrected",
                    "corrects": collected_id,
                    "reason": f"品牌录入错误：{TYPOS[unit.brand or '']} 应为 {unit.brand}",
                    "fields": {"brand": unit.brand},
                    "occurred_at": _stamp(head),
                },
                unit.index,
            )
        if unit.shipped_day is not None and unit.collector:
            day = days[unit.shipped_day]
            head = _at(day, 900 + unit.index % 200 * 0.2)
            region = next(o.region for o in ORGS if o.code == unit.collector)
            yield Step(
                unit.shipped_day,
                collector_op,
                head,
                {
                    "id": _new_id(rng),
                    "type": "shipped",
                    "to": unit.plant,
                    "manifest_no": f"YS-{region}-{day:%Y%m%d}",
                    "occurred_at": _stamp(head),
                },
                unit.index,
            )
        if unit.received_day is None or unit.received_at is None:
            continue
        resolution = 1 if unit.weight_g < 2000 else 10 if unit.weight_g < 30000 else 50
        weighed = max(resolution, round(unit.weight_g / resolution) * resolution)
        received_id = _new_id(rng)
        head = unit.received_at
        yield Step(
            unit.received_day,
            intake,
            head,
            {
                "id": received_id,
                "type": "received",
                "weight_kg": _kg(weighed + unit.reweigh_g),
                "occurred_at": _stamp(head),
            },
            unit.index,
        )
        if unit.reweigh_g:
            head += dt.timedelta(minutes=rng.uniform(10, 50))
            yield Step(
                unit.received_day,
                intake,
                head,
                {
                    "id": _new_id(rng),
                    "type": "corrected",
                    "corrects": received_id,
                    "reason": "地磅复核：首次称重未扣除托盘重量",
                    "fields": {"weight_kg": _kg(weighed)},
                    "occurred_at": _stamp(head),
                },
                unit.index,
            )
        line = LINES.get(unit.category, "L3")
        if rng.random() < 0.4:
            head += dt.timedelta(minutes=rng.uniform(5, 45))
            area = f"{AREAS[line]}-{rng.randint(1, 12):02d}排"
            yield Step(
                unit.received_day,
                intake,
                head,
                {"id": _new_id(rng), "type": "stored", "area": area, "occurred_at": _stamp(head)},
                unit.index,
            )
        if unit.dismantled_day is None or unit.dismantled_at is None:
            continue
        day = days[unit.dismantled_day]
        yield Step(
            unit.late_sync_day or unit.dismantled_day,
            f"{PLANTS[unit.plant]}.line{line[1]}",
            unit.dismantled_at,
            {
                "id": _new_id(rng),
                "type": "dismantled",
                "line": line,
                "batch": f"{day:%Y-%m-%d}-{line}",
                "outputs": _outputs(unit, rng, weighed),
                "occurred_at": _stamp(unit.dismantled_at),
            },
            unit.index,
        )


def _short(code: str) -> str:
    org = next(o for o in ORGS if o.code == code)
    return org.users[0][0].split(".")[0]


# -- loading -------------------------------------------------------------------


class _Loader:
    """Replays the plan day by day; each handheld syncs its day's scans at 18:30.

    Every call gets a fresh session, so nothing read earlier can be stale.
    """

    def __init__(
        self, app: Flask, plan: Plan, seed: int, principals: dict[str, accounts.Principal]
    ) -> None:
        self.engine, self.plan = Database.engine(app), plan
        self.catalog: Catalog = app.extensions["trace.catalog"]
        self.principals = principals
        self.rng = random.Random(seed + 1)  # lot logistics
        self.agenda: dict[int, list[Step]] = defaultdict(list)
        self.qr_ids: dict[int, str] = {}
        self.events = 0
        self.unconfirmed_lot: str | None = None
        self.manifests: Counter[str] = Counter()
        kinds = {o.code: o.kind for o in ORGS}
        rank = {"collector": 0, "dismantler": 1, "processor": 2}
        self.order = sorted(
            principals, key=lambda u: (rank[kinds[principals[u].org_code]], "intake" not in u, u)
        )

    def run(self, steps: Iterator[Step]) -> None:
        for step in steps:
            self.agenda[step.day].append(step)
        bar = tqdm(
            range(len(self.plan.days)),
            desc=f"demo {QUARTER}",
            unit="day",
            file=sys.stderr,
            disable=not sys.stderr.isatty(),
        )
        for day in bar:
            self._ship_lots(day)
            steps_today = self.agenda.pop(day, [])
            by_user: dict[str, list[Step]] = defaultdict(list)
            for step in steps_today:
                by_user[step.user].append(step)
            now = dt.datetime.combine(self.plan.days[day], SYNC_AT, CST)
            for user in self.order:
                # Items about a device collected in this very sync wait for its QR ID.
                mine = sorted(by_user.get(user, []), key=lambda s: s.when)
                fresh = {s.unit for s in mine if s.item["type"] == "collected"}
                first = [s for s in mine if s.unit not in fresh or s.item["type"] == "collected"]
                then = [s for s in mine if s.unit in fresh and s.item["type"] != "collected"]
                for batch in (first, then):
                    for start in range(0, len(batch), CHUNK):
                        self._submit(user, batch[start : start + CHUNK], now)
            bar.set_postfix(events=self.events)

    def _submit(self, user: str, steps: list[Step], now: dt.datetime) -> None:
        items = []
        for step in steps:
            item = dict(step.item)
            if step.item["type"] in RESOLVE:
                assert step.unit is not None
                item["qr_id"] = self.qr_ids[step.unit]
            items.append(item)
        with Session(self.engine, expire_on_commit=False) as session:
            results = record_events(
                session=session,
                principal=self.principals[user],
                catalog=self.catalog,
                items=items,
                now=now,
            )
        for step, result in zip(steps, results, strict=True):
            if result.status == "rejected":
                raise RuntimeError(f"demo event rejected for {user}: {step.item} → {result.error}")
            if step.item["type"] == "collected":
                assert step.unit is not None and result.qr_id is not None
                self.qr_ids[step.unit] = result.qr_id
        self.events += sum(r.status == "created" for r in results)

    def _ship_lots(self, day: int) -> None:
        """On the plant's shipping day, every hazardous lot (and CRT glass) goes out."""
        date = self.plan.days[day]
        for plant, (weekday, fortnightly) in LOT_SHIPPING.items():
            if date.weekday() != weekday or (fortnightly and date.isocalendar().week % 2):
                continue
            with Session(self.engine) as session:
                lots = session.exec(
                    select(Lot)
                    .where(
                        Lot.org == plant,
                        Lot.state == "open",
                        col(Lot.fraction).in_(RECEIVER),
                        Lot.weight_g > 0,
                    )
                    .order_by(col(Lot.code))
                ).all()
            region = next(o.region for o in ORGS if o.code == plant)
            clock = 480 + self.rng.uniform(0, 20)
            for lot in lots:
                clock += self.rng.uniform(2, 6)
                when = _at(date, clock)
                self.manifests[plant] += 1
                manifest = f"{region}{date:%Y%m%d}{self.manifests[plant]:04d}"
                self.agenda[day].append(
                    Step(
                        day,
                        f"{PLANTS[plant]}.intake",
                        when,
                        {
                            "id": _new_id(self.rng),
                            "type": "lot_shipped",
                            "lot": lot.code,
                            "to": RECEIVER[lot.fraction],
                            "manifest_no": manifest,
                            "occurred_at": _stamp(when),
                        },
                    )
                )
                if self.unconfirmed_lot is None and plant == "DIS-BJ01" and date.month == 8:
                    self.unconfirmed_lot = lot.code  # the manifest never comes back
                    continue
                self._plan_receipt(day, lot, plant)

    def _plan_receipt(self, day: int, lot: Lot, plant: str) -> None:
        processor = RECEIVER[lot.fraction]
        user = f"{_short(processor)}.op"
        arrive = day + TRANSIT_DAYS[processor][plant] + self.rng.randint(0, 1)
        treat = arrive + self.rng.randint(3, 8)
        weighed = round(lot.weight_g * self.rng.uniform(0.985, 1.003) / 10) * 10
        if arrive < len(self.plan.days):
            when = _at(self.plan.days[arrive], self.rng.uniform(540, 900))
            self.agenda[arrive].append(
                Step(
                    arrive,
                    user,
                    when,
                    {
                        "id": _new_id(self.rng),
                        "type": "lot_received",
                        "lot": lot.code,
                        "weight_kg": _kg(max(10, weighed)),
                        "occurred_at": _stamp(when),
                    },
                )
            )
        if treat < len(self.plan.days):
            when = _at(self.plan.days[treat], self.rng.uniform(540, 960))
            self.agenda[treat].append(
                Step(
                    treat,
                    user,
                    when,
                    {
                        "id": _new_id(self.rng),
                        "type": "lot_treated",
                        "lot": lot.code,
                        "method": TREATMENT[lot.fraction],
                        "occurred_at": _stamp(when),
                    },
                )
            )


# -- entry point and summary -----------------------------------------------------


def load(app: Flask, *, devices: int = 3000, seed: int = 2026) -> str:
    """Load the demo data set once; a second call changes nothing and says so."""
    if devices < 1:
        raise ValueError("devices must be at least 1")
    with Session(Database.engine(app), expire_on_commit=False) as session:
        codes = [o.code for o in ORGS]
        present = session.exec(
            select(Organisation.code).where(col(Organisation.code).in_(codes))
        ).all()
        if present:
            return "\n".join(
                [
                    f"Demo data already loaded ({len(present)} demo organisations exist, e.g. "
                    f"{min(present)}): nothing done.",
                    "",
                    _summary(session),
                    "",
                    *_logins(),
                    "",
                    "API tokens are shown only when created: "
                    "`traceability tokens create sz.intake` makes a new one.",
                ]
            )
        started = time.perf_counter()
        principals, token = _create_people(session)
        plan = plan_units(devices, random.Random(seed), app.extensions["trace.catalog"])
        loader = _Loader(app, plan, seed, principals)
        loader.run(device_steps(plan, random.Random(seed + 2)))
        elapsed = time.perf_counter() - started
        planted = [f"  - {label}: {count}" for label, count in sorted(plan.planted.items())]
        if loader.unconfirmed_lot:
            planted.append(
                f"  - hazardous lot shipped in August, receipt never confirmed: "
                f"{loader.unconfirmed_lot}"
            )
        return "\n".join(
            [
                f"Demo data set {QUARTER} (seed {seed}): {devices} devices, {loader.events} events "
                f"loaded in {elapsed:.1f} s.",
                "",
                _summary(session),
                "",
                "Planted anomalies (for the audit portal):",
                *planted,
                "",
                "(Late-September shipments also wait for their receipt: that is the normal "
                "pipeline, not an anomaly.)",
                "",
                *_logins(),
                "",
                "API token for sz.intake (Suzhou plant intake operator); it is shown only now:",
                token,
            ]
        )


def _create_people(session: Session) -> tuple[dict[str, accounts.Principal], str]:
    for spec in ORGS:
        accounts.add_org(
            session=session,
            code=spec.code,
            kind=spec.kind,
            name=spec.name,
            region=spec.region,
            license_no=spec.license_no,
            capacity_units=spec.capacity,
        )
    tokens = {}
    users = [(spec, username, role) for spec in ORGS for username, role in spec.users]
    for spec, username, role in tqdm(
        users, desc="demo users", unit="user", file=sys.stderr, disable=not sys.stderr.isatty()
    ):
        accounts.add_user(
            session=session, username=username, org_code=spec.code, role=role, password=PASSWORD
        )
        if role == "operator":  # each handheld user gets its scanner token
            tokens[username] = accounts.create_token(
                session=session, username=username, label=f"demo handheld {username}"
            )
    session.commit()
    principals = {
        username: accounts.authenticate_token(session=session, token=token)
        for username, token in tokens.items()
    }
    session.commit()
    return principals, tokens["sz.intake"]


def _logins() -> list[str]:
    lines = [
        f"Demo logins (password {PASSWORD} for every user):",
        f"  {'username':<14} {'role':<9} {'org':<9} organisation",
    ]
    for spec in ORGS:
        for username, role in spec.users:
            lines.append(f"  {username:<14} {role:<9} {spec.code:<9} {spec.name}")
    return lines


def _summary(session: Session) -> str:
    states = ("collected", "in_transit", "received", "dismantled")
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    rows = session.exec(
        select(Device.category, Device.state, func.count()).group_by(Device.category, Device.state)
    ).all()
    for category, state, count in rows:
        counts[category][state] = count
    catalog_order = list(SHARES)
    header = f"  {'category':<22}" + "".join(f"{s:>11}" for s in states) + f"{'total':>8}"
    lines = ["Devices by category and state:", header]
    totals: Counter[str] = Counter()
    for category in sorted(
        counts, key=lambda c: catalog_order.index(c) if c in catalog_order else 99
    ):
        totals.update(counts[category])
        lines.append(
            f"  {category:<22}"
            + "".join(f"{counts[category][s]:>11}" for s in states)
            + f"{sum(counts[category].values()):>8}"
        )
    lines.append(
        f"  {'total':<22}"
        + "".join(f"{totals[s]:>11}" for s in states)
        + f"{sum(totals.values()):>8}"
    )
    events = dict(session.exec(select(Event.type, func.count()).group_by(Event.type)).all())
    lots = dict(session.exec(select(Lot.state, func.count()).group_by(Lot.state)).all())
    hazardous = dict(
        session.exec(select(Lot.state, func.count()).where(Lot.hazardous).group_by(Lot.state)).all()
    )
    batches = session.exec(select(func.count()).select_from(Batch)).one()
    orgs = Counter(session.exec(select(Organisation.kind)).all())
    lines += [
        "",
        "Organisations: "
        + ", ".join(
            f"{orgs[k]} {k}s" for k in ("dismantler", "collector", "processor", "regulator")
        ),
        f"Events: {sum(events.values())} ("
        + ", ".join(f"{t} {events[t]}" for t in sorted(events, key=lambda t: -events[t]))
        + ")",
        f"Batches: {batches}",
        "Output lots: "
        + ", ".join(f"{s} {lots.get(s, 0)}" for s in ("open", "shipped", "received", "treated"))
        + " (hazardous: "
        + ", ".join(
            f"{s} {hazardous.get(s, 0)}" for s in ("open", "shipped", "received", "treated")
        )
        + ")",
    ]
    return "\n".join(lines)
