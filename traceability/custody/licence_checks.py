"""Whether the register's licences allow a step (SPEC §2.8), checked before it is recorded.

A plant dismantles only the categories its 处理资格证书 licenses, on days
(Beijing calendar) the licence is valid; a hazardous lot goes only to a
processor whose 危险废物经营许可证, valid on the shipping day, covers each
manifest's waste code. A refusal names the field to change and records
nothing.

Where the register holds no licence of the kind for the organisation, the
deployment's ``licence_checks`` decides (``workspace.LICENCE_CHECKS``):
``registered`` (the default) lets the step through — deployments and tests
from before the licence register keep working, and the audit names
dismantlings no licence covers — ``strict`` refuses it, ``off`` never checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from traceability.accounts.licences import DISMANTLING, HAZARDOUS_WASTE, china_day
from traceability.catalog.hw import covers
from traceability.custody.workspace import Workspace
from traceability.errors import Forbidden

_NAMES = {DISMANTLING: "处理资格证书 (dismantling licence)",
          HAZARDOUS_WASTE: "危险废物经营许可证 (hazardous-waste licence)"}  # fmt: skip


class Unlicensed(Forbidden):
    """The organisation's licence does not cover what the step does."""

    code = "unlicensed"


class LicenceNotValid(Forbidden):
    """No licence of the organisation is valid on the step's day."""

    code = "licence_not_valid"


def _valid_scope(
    ws: Workspace, org: str, kind: str, day: dt.date, *, field: str, missing_field: str
) -> dict[str, int] | None:
    """What ``org`` is licensed for on ``day``; None: not checked (no licence, not strict)."""
    if ws.licence_checks == "off":
        return None
    if not ws.licences.holds_any(org, kind):
        if ws.licence_checks == "strict":
            raise Unlicensed(
                f"{org} holds no {_NAMES[kind]} in the register", field=missing_field, org=org
            )
        return None
    if not ws.licences.on(org, kind, day):
        spans = ", ".join(
            f"{lic.number} {lic.valid_from}–{lic.latest.valid_to}"
            for lic in ws.licences.of(org, kind)
        )
        raise LicenceNotValid(
            f"no {_NAMES[kind]} of {org} is valid on {day} (Beijing date): {spans}",
            field=field,
            org=org,
            day=day.isoformat(),
        )
    return ws.licences.scope_on(org, kind, day)


def check_dismantling(ws: Workspace, category: str, when: dt.datetime) -> None:
    """The plant is licensed for the device's category on the dismantling day."""
    org, day = ws.principal.org_code, china_day(when)
    scope = _valid_scope(ws, org, DISMANTLING, day, field="occurred_at", missing_field="type")
    if scope is not None and category not in scope:
        raise Unlicensed(
            f"{org} is not licensed to dismantle {category} on {day} "
            f"(licensed: {', '.join(sorted(scope))})",
            field="qr_id",
            org=org,
            category=category,
        )


def check_processor(
    ws: Workspace, to: str, codes: Sequence[str], when: dt.datetime, *, hazardous: bool
) -> None:
    """A hazardous lot goes to a processor whose licence is valid on the shipping day and
    covers every waste code shipped."""
    if not hazardous:
        return
    day = china_day(when)
    scope = _valid_scope(ws, to, HAZARDOUS_WASTE, day, field="to", missing_field="to")
    if scope is None:
        return
    for code in codes:
        if not any(covers(item, code) for item in scope):
            raise Unlicensed(
                f"{to} is not licensed for waste {code} on {day} "
                f"(licensed: {', '.join(sorted(scope))})",
                field="to",
                org=to,
                hw_code=code,
            )
