"""What plants declare about how they work: their dismantling lines with the design
throughput of each per category, and their working hours (data, read by the audit rules).

Where they are declared: the shipped ``operations.toml`` holds the practice
defaults (a line or plant nobody declared is read with them); a deployment's
own file (``TRACE_PLANT_OPERATIONS``) declares its plants, each with its
source (the plant's environmental approval 环评批复 or qualification file
states its lines' design capacity). The demo ships one for its plants
(``demo/data/operations.toml``). Example::

    [[plants]]
    code = "DIS-SZ01"
    source = "环评批复 苏环审〔2019〕12号, 第三章 设计处理能力"
    days = [0, 1, 2, 3, 4]                    # Monday … Friday
    hours = [[08:00:00, 18:00:00]]            # Beijing time
    [[plants.lines]]
    id = "L1"
    units_per_hour = { tv = 9, monitor = 9 }

A plant's work on a line is measured in line-hours: a unit of category ``c``
takes ``1 / units_per_hour[c]`` of an hour of its line (``hours_per_unit``).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from traceability.audit.datafiles import load_toml
from traceability.config import Settings
from traceability.periods import CHINA

DEFAULT_OPERATIONS = Path(__file__).with_name("operations.toml")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Weekday = int  # 0 = Monday (Python's weekday())


class Hours(_Frozen):
    """When a plant works: these weekdays, these spans of the day (Beijing time)."""

    days: frozenset[Weekday] = Field(min_length=1)
    hours: tuple[tuple[dt.time, dt.time], ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Hours:
        if any(not 0 <= d <= 6 for d in self.days):
            raise ValueError("days are weekdays, 0 (Monday) to 6 (Sunday)")
        if any(start >= end for start, end in self.hours):
            raise ValueError("each span of hours starts before it ends")
        return self

    def works(self, when: dt.datetime) -> bool:
        local = when.astimezone(CHINA)
        clock = local.time().replace(tzinfo=None)
        return local.weekday() in self.days and any(s <= clock < e for s, e in self.hours)

    def text(self) -> str:
        days = ",".join(str(d + 1) for d in sorted(self.days))  # ISO weekdays, 1 = Monday
        spans = " ".join(f"{s:%H:%M}–{e:%H:%M}" for s, e in self.hours)
        return f"{spans} (UTC+8), ISO weekdays {days}"


Throughput = dict[str, float]  # category → units an hour


class Line(_Frozen):
    id: str = Field(min_length=1)
    units_per_hour: dict[str, float] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Line:
        if any(v <= 0 for v in self.units_per_hour.values()):
            raise ValueError(f"line {self.id}: design throughput is positive")
        return self


class PlantDeclaration(_Frozen):
    code: str
    source: str = Field(min_length=1)
    days: frozenset[Weekday] | None = None
    hours: tuple[tuple[dt.time, dt.time], ...] | None = None
    lines: tuple[Line, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> PlantDeclaration:
        if (self.days is None) != (self.hours is None):
            raise ValueError(f"{self.code}: declare both days and hours, or neither")
        if len({line.id for line in self.lines}) != len(self.lines):
            raise ValueError(f"{self.code}: a line is declared twice")
        return self


class Defaults(_Frozen):
    source: str = Field(min_length=1)
    days: frozenset[Weekday]
    hours: tuple[tuple[dt.time, dt.time], ...]
    units_per_hour: dict[str, float] = Field(min_length=1)


class OperationsFile(_Frozen):
    version: str | None = None
    source: str = Field(min_length=1)
    defaults: Defaults | None = None
    plants: tuple[PlantDeclaration, ...] = ()


class Operations(_Frozen):
    """The practice defaults and every declared plant."""

    version: str
    defaults: Defaults
    plants: dict[str, PlantDeclaration] = Field(default_factory=dict)

    def hours_of(self, plant: str) -> tuple[Hours, str]:
        """The plant's working hours and where they come from."""
        declared = self.plants.get(plant)
        if declared is not None and declared.days is not None and declared.hours is not None:
            return Hours(days=declared.days, hours=declared.hours), declared.source
        return Hours(days=self.defaults.days, hours=self.defaults.hours), self.defaults.source

    def units_per_hour(self, plant: str, line: str | None, category: str) -> tuple[float, str]:
        """The design throughput of ``line`` at ``plant`` for ``category``, and its source:
        the plant's declaration, else the practice default."""
        declared = self.plants.get(plant)
        if declared is not None:
            for candidate in declared.lines:
                if candidate.id == line and category in candidate.units_per_hour:
                    return candidate.units_per_hour[category], declared.source
        default = self.defaults.units_per_hour
        return default.get(category, min(default.values())), self.defaults.source

    def hours_per_unit(self, plant: str, line: str | None, category: str) -> float:
        return 1 / self.units_per_hour(plant, line, category)[0]


@cache
def load_operations(declared: Path | None = None) -> Operations:
    """The practice defaults, with the plants ``declared`` (a deployment's file) declares."""
    shipped = load_toml(DEFAULT_OPERATIONS, OperationsFile)
    if shipped.defaults is None or shipped.version is None:
        raise ValueError(f"{DEFAULT_OPERATIONS}: the shipped file holds the defaults")
    plants = {p.code: p for p in shipped.plants}
    if declared is not None:
        extra = load_toml(declared, OperationsFile)
        plants |= {p.code: p for p in extra.plants}
    return Operations(version=shipped.version, defaults=shipped.defaults, plants=plants)


def operations_of(settings: Settings) -> Operations:
    """The operations a deployment's audit reads (its ``TRACE_PLANT_OPERATIONS`` file)."""
    declared = settings.plant_operations
    return load_operations(declared.resolve() if declared is not None else None)
