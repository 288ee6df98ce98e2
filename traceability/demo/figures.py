"""The demo's invented figures (``data/quarter.toml``): schema, checks, loading once."""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from traceability.accounts.models import OrgKind, Role

DATA_FILE = Path(__file__).parent / "data" / "quarter.toml"

Span = tuple[float, float]  # a uniform range, low to high


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Quarter(_Frozen):
    name: str
    first_day: dt.date
    last_day: dt.date
    holidays: frozenset[dt.date] = frozenset()
    sync_at: dt.time


class Org(_Frozen):
    code: str
    kind: OrgKind
    name: str
    region: str
    short: str | None = None  # prefix of the generated usernames
    license_no: str | None = None
    capacity: int | None = Field(default=None, gt=0)
    users: tuple[tuple[str, str], ...] = ()  # (username, role), regulators only

    @model_validator(mode="after")
    def _users(self) -> Org:
        if self.kind == OrgKind.regulator:
            if not self.users or self.short is not None:
                raise ValueError(f"regulator {self.code} lists its users and has no short name")
        elif self.short is None or self.users:
            raise ValueError(f"{self.code} has a short name and no listed users")
        if (self.kind == OrgKind.dismantler) != (self.license_no is not None):
            raise ValueError(f"{self.code}: dismantlers, and only they, have a licence")
        return self

    @property
    def accounts(self) -> tuple[tuple[str, str], ...]:
        """Its users as (username, role): handhelds are named after the org's short name."""
        short = self.short
        if self.kind == OrgKind.dismantler:
            names = ("manager", "intake", "line1", "line2", "line3")
            return tuple(
                (f"{short}.{n}", Role.manager if n == "manager" else Role.operator) for n in names
            )
        if short is not None:
            return ((f"{short}.manager", Role.manager), (f"{short}.op", Role.operator))
        return self.users


class Logistics(_Frozen):
    direct_share: float = Field(ge=0, le=1)


class Collector(_Frozen):
    plant: str
    share: float = Field(gt=0)
    truck_weekdays: frozenset[int]


class LotShipping(_Frozen):
    weekday: int = Field(ge=0, le=6)
    fortnightly: bool


class Receiver(_Frozen):
    processor: str
    treatment: str


class CategoryMix(_Frozen):
    share: float = Field(gt=0)
    line: str
    brands: tuple[str, ...] = Field(min_length=1)


class TvModel(_Frozen):
    crt_share: float
    crt_sizes: dict[int, float]
    crt_kg: dict[int, float]
    flat_sizes: dict[int, float]
    flat_ccfl_share: float
    flat_base_kg: float
    flat_kg_per_sq_in: float
    #: Flat panels by display type (relative frequencies); "lcd" takes the CCFL share.
    flat_displays: dict[str, float] = {"lcd": 1.0}
    #: A display type's weight against an LCD of the same size (plasma is heavier).
    flat_kg_factor: dict[str, float] = {}

    @model_validator(mode="after")
    def _check(self) -> TvModel:
        if set(self.crt_sizes) != set(self.crt_kg):
            raise ValueError("tv: every CRT size needs a weight")
        return self


class FridgeModel(_Frozen):
    volume_bands: tuple[tuple[int, int, float], ...]
    base_kg: float
    kg_per_l: float


class WasherType(_Frozen):
    frequency: float
    load_kg: Span
    base_kg: float


class WasherModel(_Frozen):
    kg_per_load_kg: float
    types: dict[str, WasherType]


class AcForm(_Frozen):
    frequency: float
    cooling_w: tuple[int, ...] = Field(min_length=1)
    base_kg: float
    kg_per_w: float


class AcModel(_Frozen):
    forms: dict[str, AcForm]


class Variant(_Frozen):
    kg: Span
    recipe: str
    frequency: float = 1
    #: Catalogue attributes this variant records besides the model's own.
    attributes: dict[str, Any] = {}


class ComputerModel(_Frozen):
    forms: dict[str, Variant]
    #: What came with a desktop host (its display, or none): the subsidised unit is the
    #: host with its display.
    desktop_displays: dict[str, Variant] = {}


class MonitorModel(_Frozen):
    crt_share: float
    crt: Variant
    flat: Variant


class PrinterModel(_Frozen):
    small_share: float
    small: Variant
    large: Variant


class Models(_Frozen):
    tv: TvModel
    refrigerator: FridgeModel
    washing_machine: WasherModel
    air_conditioner: AcModel
    microcomputer: ComputerModel
    monitor: MonitorModel
    printer: PrinterModel
    simple: dict[str, Variant]

    def named_recipes(self) -> set[str]:
        """Every recipe a model names, besides the TV's and the appliances' fixed ones."""
        variants = [
            *self.microcomputer.forms.values(),
            *self.microcomputer.desktop_displays.values(),
            self.monitor.crt,
            self.monitor.flat,
            self.printer.small,
            self.printer.large,
            *self.simple.values(),
        ]
        return {v.recipe for v in variants}


FIXED_RECIPES = frozenset(
    {"crt", "flat", "flat_ccfl", "plasma", "oled", "rear_projection", "fridge", "fridge_shell",
     "washer", "ac"}
)  # fmt: skip


class Recipe(_Frozen):
    minutes: float = Field(gt=0)
    outputs: dict[str, float] = Field(min_length=1)  # fraction → nominal % of intake


class LineRush(_Frozen):
    plant: str
    category: str
    devices: int = Field(ge=2)
    minutes: float = Field(gt=0)  # between two dismantlings


class TwoLines(_Frozen):
    plant: str
    categories: tuple[str, str]
    devices: int = Field(ge=1)  # of each category
    operator: str  # the handheld user (after the plant's short name) recording both


class NightShift(_Frozen):
    plant: str
    start: dt.time


class Upcoding(_Frozen):
    plant: str
    category: str
    attribute: str
    from_: int = Field(alias="from")
    to: int


class ShareOutlier(_Frozen):
    plant: str
    category: str
    fraction: str
    factor: float = Field(gt=0)  # what share of it is reported as itself
    into: str  # the fraction the rest is booked as


class HeldFraction(_Frozen):
    plant: str
    fraction: str


class Refusals(_Frozen):
    sender: str
    refused_by: str
    then: str
    devices: int = Field(ge=1)
    reason: str


class WeightDrop(_Frozen):
    category: str
    share: float = Field(gt=0, lt=1)


class Shell(_Frozen):
    category: str
    kg: float = Field(gt=0)


class LateCorrection(_Frozen):
    plant: str
    on: dt.date  # a working day after the quarter closed
    kg: float  # what the re-weighing adds to the intake


class Residue(_Frozen):
    """A unit's ``fraction`` not sorted out: booked with the residue (``other``)."""

    category: str
    fraction: str


class Planted(_Frozen):
    """Where the demo plants the audit cases of issue 17 (``demo.cases``)."""

    line_rush: LineRush
    two_lines: TwoLines
    night_shift: NightShift
    upcoding: Upcoding
    share_outlier: ShareOutlier
    hazardous_held: HeldFraction
    refusals: Refusals
    weight_drop: WeightDrop
    shell: Shell
    late_correction: LateCorrection
    residue: Residue | None = None


class Figures(_Frozen):
    version: str
    source: str
    quarter: Quarter
    orgs: tuple[Org, ...]
    logistics: Logistics
    plant_share: dict[str, float]
    collectors: dict[str, Collector]
    lot_shipping: dict[str, LotShipping]
    receivers: dict[str, Receiver]
    transit_days: dict[str, dict[str, int]]
    areas: dict[str, str]
    categories: dict[str, CategoryMix]
    typos: dict[str, str]
    models: Models
    recipes: dict[str, Recipe]
    planted: Planted | None = None

    @model_validator(mode="after")
    def _cross_check(self) -> Figures:
        kinds = {o.code: o.kind for o in self.orgs}
        if len(kinds) != len(self.orgs):
            raise ValueError("organisation codes repeat")
        plants = {c for c, k in kinds.items() if k == OrgKind.dismantler}

        def need(codes: set[str], kind: OrgKind, where: str) -> None:
            if wrong := sorted(c for c in codes if kinds.get(c) != kind):
                raise ValueError(f"{where}: not {kind}s: {wrong}")

        need(set(self.plant_share), OrgKind.dismantler, "plant_share")
        if set(self.plant_share) != plants or set(self.lot_shipping) != plants:
            raise ValueError("plant_share and lot_shipping cover every dismantler")
        need(set(self.collectors), OrgKind.collector, "collectors")
        need({c.plant for c in self.collectors.values()}, OrgKind.dismantler, "collector plants")
        processors = {r.processor for r in self.receivers.values()}
        need(processors, OrgKind.processor, "receivers")
        for processor in processors:
            if set(self.transit_days.get(processor, {})) != plants:
                raise ValueError(f"transit_days: {processor} from every plant")
        if bad := sorted(c.line for c in self.categories.values() if c.line not in self.areas):
            raise ValueError(f"categories on lines without an area: {bad}")
        modelled = {f for f in Models.model_fields if f != "simple"} | set(self.models.simple)
        if set(self.categories) != modelled:
            raise ValueError("every category, and only those, has a device model")
        if missing := sorted((FIXED_RECIPES | self.models.named_recipes()) - set(self.recipes)):
            raise ValueError(f"device models name unknown recipes: {missing}")
        return self

    def org(self, code: str) -> Org:
        return next(o for o in self.orgs if o.code == code)

    def short(self, code: str) -> str:
        short = self.org(code).short
        assert short is not None, code
        return short


def parse_figures(path: Path = DATA_FILE) -> Figures:
    with path.open("rb") as fh:
        return Figures.model_validate(tomllib.load(fh))


@functools.cache
def load_figures() -> Figures:
    """The shipped demo figures, parsed and validated once per process."""
    return parse_figures()
