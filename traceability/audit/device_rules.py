"""Rules over one device's (or one lot's, or one event's) replayed records."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from traceability.audit.dataset import AuditData, AuditedDevice
from traceability.audit.findings import RECORDS_LISTED, Finding
from traceability.audit.ruleset import Severity, Thresholds
from traceability.catalog.dismantling import dismantling_gaps, gaps_text
from traceability.custody.models import EventType
from traceability.custody.wellformed import row_problem
from traceability.devices.models import DeviceState
from traceability.periods import CHINA, quarter_of


def kg(grams: int) -> str:
    return f"{Decimal(grams) / 1000:.3f}"


def pct(share: float) -> str:
    return f"{share * 100:.1f}"


def local(when: dt.datetime) -> str:
    """A time in a finding's text: Beijing time, saying so (SPEC §2.9)."""
    return when.astimezone(CHINA).strftime("%Y-%m-%d %H:%M (UTC+8)")


def plant_of(record: AuditedDevice) -> str:
    f = record.facts
    return f.dismantled_by or f.received_by or f.custodian or f.collected_by or "?"


def event_ids(record: AuditedDevice, *types: str) -> tuple[str, ...]:
    return tuple(e.id for e in record.events if e.type in types)


def _dismantled(data: AuditData) -> Iterator[AuditedDevice]:
    for record in data.devices.values():
        f = record.facts
        if f.state == DeviceState.dismantled and f.dismantled_at and f.received_weight_g:
            yield record


def verification_failed(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """Any device, lot or organisation whose events do not all verify (tampered, missing...)."""
    for qr_id, record in data.devices.items():
        v = record.verification
        if v.status != "failed":
            continue
        bad = tuple(i for i, s in v.events if s not in ("verified", "pending"))
        statuses = sorted({s for _, s in v.events if s not in ("verified", "pending")})
        yield Finding(
            "verification_failed",
            plant_of(record),
            record.events[-1].occurred_at,
            qr_id,
            {"problem": v.problem or ", ".join(statuses)},
            events=bad,
            devices=(qr_id,),
        )
    for code, lot in data.lots.items():
        if lot.verification.status != "failed" or not lot.events:
            continue
        yield Finding(
            "verification_failed",
            lot.org,
            lot.events[-1].occurred_at,
            code,
            {"problem": lot.verification.problem or "tampered"},
            events=tuple(i for i, s in lot.verification.events if s not in ("verified", "pending")),
        )
    for code, (log, check) in data.register.items():  # the organisations' register
        if check.status != "failed":
            continue
        bad = tuple(i for i, s in check.events if s not in ("verified", "pending", "late"))
        yield Finding(
            "verification_failed",
            code,
            _when(next(r for r in log if r.id == bad[0]) if bad else log[-1], data),
            code,
            {"problem": check.problem or "tampered"},
            events=bad,
        )
    for row in data.strays:  # a row of no subject: in no log, yet it is in the database
        yield Finding(
            "verification_failed",
            str(row.org),
            _when(row, data),
            str(row.id),
            {"problem": f"event {row.id} is malformed: {row_problem(row)}"},
            events=(str(row.id),),
        )


def _when(row: Any, data: AuditData) -> dt.datetime:
    """When a row says it happened; one it does not say readably is found now."""
    if isinstance(row.occurred_at, dt.datetime):
        return row.occurred_at
    return data.as_of - dt.timedelta(microseconds=1)


def mass_balance(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """Outputs against the weighed intake, beyond the tolerance either way."""
    for record in _dismantled(data):
        f = record.facts
        intake = f.received_weight_g or 0
        outputs = sum(o.weight_g for o in f.outputs)
        share = outputs / intake
        if 1 - t.mass_balance_loss_max <= share <= 1 + t.mass_balance_excess_max:
            continue
        yield Finding(
            "mass_balance",
            f.dismantled_by or "?",
            f.dismantled_at,  # type: ignore[arg-type]  # _dismantled: set
            f.qr_id,
            {"intake_kg": kg(intake), "outputs_kg": kg(outputs), "share_pct": pct(share)},
            events=event_ids(record, EventType.received, EventType.dismantled),
            devices=(f.qr_id,),
            verified=record.verification.verified,
            severity="high" if share > 1 + t.mass_balance_excess_max else None,
        )


def resource_rate(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """Recovered outputs (every fraction but ``other``) per intake below the minimum."""
    for record in _dismantled(data):
        f = record.facts
        intake = f.received_weight_g or 0
        rate = sum(o.weight_g for o in f.outputs if o.fraction != "other") / intake
        if rate >= t.resource_rate_min:
            continue
        yield Finding(
            "resource_rate",
            f.dismantled_by or "?",
            f.dismantled_at,  # type: ignore[arg-type]
            f.qr_id,
            {"rate_pct": pct(rate), "intake_kg": kg(intake)},
            events=event_ids(record, EventType.received, EventType.dismantled),
            devices=(f.qr_id,),
            verified=record.verification.verified,
        )


def irregular_dismantling(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """A required output of the regular-dismantling rules is not reported, or a key one
    weighs less than its least weight (the same test as the claim's). A device dismantled
    by scan in a batch is judged by the batch's closing; a batch not closed (by the end of
    the period) weighed nothing of it."""
    names = data.catalog.fractions
    for record in _dismantled(data):
        f = record.facts
        outputs = f.outputs
        if f.batch is not None and not outputs:  # batch dismantling (SPEC §2.4)
            closing = data.batch_closings.get(f"{f.dismantled_by}/{f.batch}")
            if closing is None:
                yield _irregular(record, {
                    "missing_zh": f"处理批次 {f.batch} 未结束：产物未称重",
                    "missing_en": f"batch {f.batch} not closed: its outputs were never weighed",
                })  # fmt: skip
                continue
            outputs = closing
        gaps = dismantling_gaps(data.catalog, f.category or "", f.attributes, outputs)
        if not gaps:
            continue
        yield _irregular(record, {
            "missing_zh": gaps_text(gaps, names, "zh"),
            "missing_en": gaps_text(gaps, names, "en"),
        })  # fmt: skip


def _irregular(record: AuditedDevice, detail: dict[str, str]) -> Finding:
    f = record.facts
    return Finding(
        "irregular_dismantling",
        f.dismantled_by or "?",
        f.dismantled_at,  # type: ignore[arg-type]
        f.qr_id,
        detail,
        events=event_ids(record, EventType.dismantled),
        devices=(f.qr_id,),
        verified=record.verification.verified,
    )


def leakage(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """Shipped and never received, or left at a collection point, beyond the limit."""
    limit = dt.timedelta(days=t.leakage_days)
    for record in data.devices.values():
        f = record.facts
        if f.state == DeviceState.in_transit:
            since = next(e.occurred_at for e in reversed(record.events) if e.type == "shipped")
            org, state = f.destination or "?", ("已发运", "shipped")
            events = event_ids(record, EventType.collected, EventType.shipped)
        elif f.state == DeviceState.collected and f.collected_at:
            org_row = data.orgs.get(f.custodian or "")
            if org_row is None or org_row.kind != "collector":
                continue  # collected at a plant: it is in the plant's own stock
            since, org, state = f.collected_at, f.custodian or "?", ("已回收", "collected")
            events = event_ids(record, EventType.collected)
        else:
            continue
        if data.as_of - since <= limit:
            continue
        yield Finding(
            "leakage",
            org,
            since,
            f.qr_id,
            {
                "since": local(since),
                "days": (data.as_of - since).days,
                "org": f.destination or f.custodian,
                "state_zh": state[0],
                "state_en": state[1],
            },
            events=events,
            devices=(f.qr_id,),
            verified=record.verification.verified,
        )


def normalise_serial(serial: str) -> str:
    """Serials as printed: NFKC (full-width, ligatures), case and spacing ignored."""
    return "".join(unicodedata.normalize("NFKC", serial).casefold().split())


def duplicate_serial(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """The same manufacturer serial on more than one device."""
    groups: dict[str, list[AuditedDevice]] = defaultdict(list)
    for record in data.devices.values():
        if record.facts.serial and (key := normalise_serial(record.facts.serial)):
            groups[key].append(record)
    for records in groups.values():
        if len(records) < 2:
            continue
        devices = tuple(sorted(r.facts.qr_id for r in records))
        for record in records:
            f = record.facts
            yield Finding(
                "duplicate_serial",
                plant_of(record),
                f.collected_at or data.as_of,
                f.qr_id,
                {"serial": f.serial, "count": len(records)},
                events=event_ids(record, EventType.collected),
                devices=devices,
                verified=data.verified(devices),
            )


# What people call the steps a finding names (zh, en).
EVENT_NAMES = {
    "collected": ("回收", "collected"),
    "shipped": ("发运", "shipped"),
    "received": ("入厂称重", "received"),
    "stored": ("入库", "stored"),
    "dismantled": ("拆解", "dismantled"),
    "refused": ("拒收", "refused"),
    "corrected": ("更正", "corrected"),
}


def backdating(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """Events anchored more than the limit after the time they claim to have happened.

    Measured to the anchor's block time, the one time the plant cannot forge
    (SPEC §3 "Time"), not to ``recorded_at``, which its server writes; a
    handheld that queued offline for a day stays within the limit. Events not
    anchored yet are measured to their recorded time.
    """
    limit = dt.timedelta(days=t.backdating_days)
    for record in data.devices.values():
        verification = record.verification
        for event in record.events:
            anchored = verification.anchored_at(event.id)
            until = anchored or event.recorded_at
            delay = until - event.occurred_at
            if delay <= limit:
                continue
            yield Finding(
                "backdating",
                event.org,
                event.occurred_at,
                record.facts.qr_id,
                {
                    "type": event.type,  # the code; the detail names it (type_zh, type_en)
                    "type_zh": EVENT_NAMES.get(event.type, (event.type, ""))[0],
                    "type_en": EVENT_NAMES.get(event.type, ("", event.type))[1],
                    "occurred": local(event.occurred_at),
                    "recorded": local(event.recorded_at),
                    "anchored": local(anchored) if anchored else "—",
                    "days": delay.days,
                },
                events=(event.id,),
                devices=(record.facts.qr_id,),
                verified=verification.verified,
            )


# What people call the fields a correction changes (zh, en).
FIELD_NAMES = {
    "weight_g": ("重量", "weight"),
    "brand": ("品牌", "brand"),
    "model": ("型号", "model"),
    "serial": ("序列号", "serial"),
    "attributes": ("属性", "attributes"),
    "manifest_no": ("联单号", "manifest number"),
    "reason": ("原因", "reason"),
    "method": ("处置方式", "treatment method"),
}


def _field_names(fields: Iterable[str], which: int) -> str:
    names = [FIELD_NAMES.get(f, (f, f))[which] for f in sorted(fields)]
    return ("、" if which == 0 else ", ").join(names)


# Corrections of these fields of these events decide the subsidy tier or the mass.
_TIER_OR_MASS = {("collected", "attributes"), ("collected", "weight_g"), ("received", "weight_g")}


def correction(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """Every correction; tier- or mass-deciding ones weigh more, after dismantling most.

    Those recorded after the close of the quarter the device was dismantled in
    (``AuditedDevice.late``) say so: the quarter's figures do not include them.
    """
    for record in data.devices.values():
        late = {c.id for c in record.late}
        quarter = quarter_of(record.close - dt.timedelta(days=1)).name if record.close else ""
        for c in (*record.facts.corrections, *record.late):
            tier = any((c.corrects_type, name) in _TIER_OR_MASS for name in c.fields)
            severity: Severity | None = "high" if c.flag else "medium" if tier else None
            after = c.id in late
            after_zh = f"（{quarter} 结账后记录，不计入该季度数字）" if after else ""
            after_en = f" (recorded after {quarter} closed: not in its figures)" if after else ""
            yield Finding(
                "correction",
                c.org or plant_of(record),
                c.occurred_at or data.as_of,
                record.facts.qr_id,
                {
                    "fields_zh": _field_names(c.fields, 0),
                    "fields_en": _field_names(c.fields, 1),
                    "reason": c.reason or "",
                    "after_close_zh": after_zh,
                    "after_close_en": after_en,
                },
                events=(c.corrects, c.id),
                devices=(record.facts.qr_id,),
                verified=record.verification.verified,
                severity=severity,
            )


def hazardous_lot_unconfirmed(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """A hazardous output lot shipped without a confirmed receipt beyond the limit."""
    limit = dt.timedelta(days=t.hazardous_receipt_days)
    names = data.catalog.fractions
    for lot in data.lots.values():
        if not lot.hazardous or lot.shipped_at is None or lot.received_at is not None:
            continue
        if data.as_of - lot.shipped_at <= limit:
            continue
        fraction = names.get(lot.fraction)
        yield Finding(
            "hazardous_lot_unconfirmed",
            lot.org,
            lot.shipped_at,
            lot.code,
            {
                "lot": lot.code,
                "fraction_zh": fraction.zh if fraction else lot.fraction,
                "fraction_en": fraction.en if fraction else lot.fraction,
                "shipped": local(lot.shipped_at),
                "to": lot.shipped_to,
                "days": (data.as_of - lot.shipped_at).days,
            },
            events=tuple(e.id for e in lot.events[:RECORDS_LISTED]),
            verified=lot.verification.verified,
        )


_IMPORT_STATUS_ZH = {"refused": "拒收", "missing": "缺失"}


def import_refused(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """Each record the regulator's import refused, each anchored leaf the plant did not
    produce (``federation``): the plant's, at the time the record claims (or its anchor's)."""
    for row in data.imports:
        if not data.in_period(row.at):
            continue
        subject = row.subject or f"{row.root}#{row.leaf_index}"
        yield Finding(
            "import_refused",
            str(row.plant),
            row.at,
            subject,
            {
                "status": row.status,
                "status_zh": _IMPORT_STATUS_ZH.get(row.status, row.status),
                "problem": row.reason or row.status,
            },
            events=(str(row.event_id),) if row.event_id else (),
            devices=(subject,) if row.subject and row.subject in data.devices else (),
        )
