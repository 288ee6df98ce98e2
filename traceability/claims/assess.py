"""Assessing devices for a claim: each device's evidence, its eligibility and its rate.

The figures of a claim before they are written. ``assess_devices`` is pure
reading, so a large claim can assess halves of its devices in two processes
(``claims.helper_process``) and join the results in QR ID order.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlmodel import Session

from traceability.anchoring.trust import TrustedLedger
from traceability.catalog.models import Catalog
from traceability.claims.eligibility import Assessment, assess
from traceability.claims.evidence import BatchAnchor, DeviceEvidence, gather
from traceability.claims.policy import ClaimPolicy
from traceability.claims.rates import RateMemo, quantity_rater
from traceability.custody.facts import Output
from traceability.db import iso
from traceability.periods import Period
from traceability.verification.services import Verifier


class Item(NamedTuple):
    """A claimed device before it is written: compact, for a quarter holds 100,000."""

    qr_id: str
    category: str
    tier: str
    schedule: str
    rate_yuan: int
    dismantled_at: dt.datetime
    received_weight_g: int | None
    outputs: tuple[Output, ...]
    digests: bytes  # the device's event digests in log order, 32 bytes each
    anchor: BatchAnchor | None  # of its latest event
    flags: tuple[tuple[str, str], ...] = ()  # (flag, detail) the policy marks
    #: What a reviewer checks the tier against (``device_facts``): attributes, identity, …
    facts: dict[str, Any] | None = None

    @property
    def event_digests(self) -> list[str]:
        return [self.digests[i : i + 32].hex() for i in range(0, len(self.digests), 32)]

    def row(self, claim_id: int, anchor: dict[str, Any] | None) -> dict[str, Any]:
        """The ``claim_item`` row (``anchor``: this item's anchor as stored)."""
        return {
            "claim_id": claim_id,
            "qr_id": self.qr_id,
            "category": self.category,
            "tier": self.tier,
            "schedule": self.schedule,
            "rate_yuan": self.rate_yuan,
            "dismantled_at": self.dismantled_at,
            "received_weight_g": self.received_weight_g,
            "outputs": [list(o) for o in self.outputs],
            "event_digests": self.event_digests,
            "anchor": anchor,
            "review": None,
            "review_reason": None,
            "flags": [list(f) for f in self.flags] or None,
            "facts": self.facts,
        }


@dataclass
class Computed:
    """A claim's figures, before they are written."""

    items: list[Item] = field(default_factory=list)
    exclusions: list[dict[str, Any]] = field(default_factory=list)
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict)

    def lines(self, catalog: Catalog) -> list[dict[str, Any]]:
        """The 拆解处理情况表: a line per category, tier, schedule and rate, in catalogue order."""
        return summary_lines(
            catalog, Counter((i.category, i.tier, i.schedule, i.rate_yuan) for i in self.items)
        )

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (from the helper process) as plain tuples: a named tuple pickles through
        Python-level calls, about ten times slower for a half-quarter's items."""
        plain = [(*i[:7], tuple(map(tuple, i.outputs)), *i[8:]) for i in self.items]
        return (_unpickle_computed, (plain, self.exclusions, self.schedules))

    def add(self, evidence: DeviceEvidence, outcome: Assessment) -> None:
        """One device assessed: an item at its rate, or an exclusion with every reason."""
        facts = evidence.facts
        if not outcome.eligible:
            self.exclusions.append(
                {
                    "qr_id": facts.qr_id,
                    "category": facts.category,
                    "reasons": [list(r) for r in outcome.reasons],
                }
            )
            return
        rated = outcome.rated
        assert rated is not None and facts.dismantled_at is not None and facts.category
        schedule = rated.schedule
        self.schedules[schedule.id] = {
            "id": schedule.id,
            "sha256": schedule.sha256,
            "source": schedule.source,
            "label": schedule.label,
        }
        self.items.append(
            Item(
                facts.qr_id,
                facts.category,
                rated.tier.id,
                schedule.id,
                rated.rate,
                facts.dismantled_at,
                facts.received_weight_g,
                facts.outputs,
                b"".join(bytes.fromhex(d) for d in evidence.digests),
                evidence.anchor,
                outcome.flags,
                device_facts(evidence),
            )
        )

    def extend(self, other: Computed) -> None:
        """Append ``other``'s devices (assessed after this one's, in QR ID order)."""
        self.items.extend(other.items)
        self.exclusions.extend(other.exclusions)
        self.schedules.update(other.schedules)


def summary_lines(
    catalog: Catalog, units: Counter[tuple[str, str, str, int]]
) -> list[dict[str, Any]]:
    """The 拆解处理情况表 from the units per (category, tier, schedule, rate), in catalogue
    order. A schedule or category this deployment no longer has keeps its codes as names
    (a replay of an old claim must not fail on a replaced schedule)."""
    order = {code: n for n, code in enumerate(catalog.categories)}
    out = []
    for (category, tier, schedule, rate), count in units.items():
        known = catalog.rate_schedules.get(schedule)
        tiers = known.tiers if known is not None else []
        tier_zh = next((t.zh for t in tiers if t.id == tier), tier)
        tier_order = next((n for n, t in enumerate(tiers) if t.id == tier), len(tiers))
        named = catalog.categories.get(category)
        out.append(
            {
                "category": category,
                "category_zh": named.zh if named is not None else category,
                "tier": tier,
                "tier_zh": tier_zh,
                "schedule": schedule,
                "rate": rate,
                "units": count,
                "amount": rate * count,
                "_order": (order.get(category, len(order)), tier_order, schedule, rate, tier),
            }
        )
    out.sort(key=lambda line: line.pop("_order"))  # type: ignore[arg-type,return-value]
    return out


def device_facts(evidence: DeviceEvidence) -> dict[str, Any]:
    """The facts a claimed device's row shows beside its tier (SPEC §2.6 "Exports")."""
    facts = evidence.facts
    return {
        "attributes": dict(facts.attributes),
        "brand": facts.brand,
        "model": facts.model,
        "serial": facts.serial,
        "source": facts.source,
        "collector": facts.collected_by,
        "received_at": iso(facts.received_at) if facts.received_at else None,
        "batch": facts.batch,
        "line": facts.line,
        "operator": evidence.operator,
    }


def _unpickle_computed(
    plain: list[tuple[Any, ...]],
    exclusions: list[dict[str, Any]],
    schedules: dict[str, dict[str, Any]],
) -> Computed:
    make = Output._make
    items = [Item._make((*i[:7], tuple(map(make, i[7])), *i[8:])) for i in plain]
    return Computed(items, exclusions, schedules)


def assess_devices(
    session: Session,
    catalog: Catalog,
    qr_ids: Sequence[str],
    *,
    plant: str,
    region: str,
    period: Period,
    ledger: TrustedLedger,
    claim_id: int | None = None,
    verifier: Verifier | None = None,
    policy: ClaimPolicy | None = None,
    findings: Mapping[str, tuple[str, ...]] | None = None,
    quantity_tiers: str | None = None,
) -> Computed:
    """Assess the devices ``qr_ids`` for the plant's claim of ``period`` (no writes).

    ``verifier``: one already used for this claim (its batch checks are kept);
    ``policy``: the claim policy (default: the shipped one); ``findings``: each device's
    audit findings (rule ids); ``quantity_tiers``: a quantity certification, its tiers
    from that schedule (no yuan).
    """
    result = Computed()
    findings = findings or {}
    rate = RateMemo(catalog, quantity_rater(quantity_tiers) if quantity_tiers else None)
    for evidence in gather(
        session,
        catalog,
        qr_ids,
        plant=plant,
        ledger=ledger,
        claim_id=claim_id,
        verifier=verifier,
    ):
        outcome = assess(
            catalog,
            plant=plant,
            region=region,
            period=period,
            facts=evidence.facts,
            verification=evidence.verification,
            hazards=evidence.hazards,
            prior=evidence.prior,
            rate=rate,
            policy=policy,
            findings=findings.get(evidence.facts.qr_id, ()),
            batch=evidence.batch,
        )
        result.add(evidence, outcome)
    return result
