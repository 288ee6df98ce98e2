"""What a claim needs of the audit (SPEC §2.6): each device's findings of any period and
each plant's high-severity ones, read from the sealed snapshot of everything so far.

The audit sits above the claims (its findings name the claims holding their
devices), so the edges that create a claim read this view here and hand it
down. Findings are worked as cases in a later step; until then every finding
is open. No snapshot yet (or one that is not what it says): an empty view that
says so, and the claim states its condition as unknown.
"""

from __future__ import annotations

from sqlmodel import Session

from traceability.audit.logstate import seal_key
from traceability.audit.ruleset import load_ruleset
from traceability.audit.snapshots import ALL, Snapshot, SnapshotCache
from traceability.claims.discipline import NO_AUDIT, AuditView
from traceability.context import Trace


def audit_view(session: Session, trace: Trace) -> AuditView:
    """The findings of the snapshot of everything so far, by device and by plant."""
    snapshot = SnapshotCache().read(session, ALL, key=seal_key(trace.secret_key), now=trace.now())
    if not isinstance(snapshot, Snapshot):
        return NO_AUDIT
    ruleset = load_ruleset()
    severity = {r.id: r.severity for r in ruleset.rules}
    by_device: dict[str, list[str]] = {}
    high: dict[str, list[str]] = {}
    for finding in snapshot.findings:
        for qr_id in finding.devices:
            by_device.setdefault(qr_id, []).append(finding.rule)
        if (finding.severity or severity.get(finding.rule)) == "high":
            high.setdefault(finding.org, []).append(finding.rule)
    return AuditView(
        computed_at=snapshot.computed_at,
        by_device={q: tuple(sorted(set(rules))) for q, rules in by_device.items()},
        high_by_org={org: tuple(rules) for org, rules in high.items()},
    )
