"""Pre-minting label sheets."""

from __future__ import annotations

import secrets

from sqlmodel import Session, col, select

from traceability.accounts.models import Principal, Role
from traceability.errors import Forbidden, NotFound, ValidationFailed
from traceability.labels.ids import format_id, mint_id
from traceability.labels.models import LabelSheet, MintedId
from traceability.labels.render import device_url

MAX_SHEET = 1000


def mint_sheet(*, session: Session, principal: Principal, count: object) -> LabelSheet:
    if principal.org_kind not in ("collector", "dismantler"):
        raise Forbidden("only collectors and dismantlers label devices", field="count")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_SHEET:
        raise ValidationFailed(f"count must be a whole number from 1 to {MAX_SHEET}", field="count")
    sheet = LabelSheet(
        id=secrets.token_hex(8), org=principal.org_code, count=count, created_by=principal.username
    )
    session.add(sheet)
    session.add_all(
        MintedId(qr_id=mint_id(), org=principal.org_code, sheet_id=sheet.id) for _ in range(count)
    )
    session.commit()
    return sheet


def sheet_ids(session: Session, sheet_id: str) -> list[str]:
    """The canonical IDs minted on a sheet, in order."""
    return list(
        session.exec(
            select(MintedId.qr_id)
            .where(MintedId.sheet_id == sheet_id)
            .order_by(col(MintedId.qr_id))
        ).all()
    )


def sheet_items(
    session: Session, principal: Principal, sheet_id: str, public_url: str
) -> list[tuple[str, str]]:
    sheet = session.get(LabelSheet, sheet_id)
    if sheet is None or (sheet.org != principal.org_code and principal.role != Role.admin):
        raise NotFound(f"no label sheet {sheet_id}", field="sheet")
    ids = session.exec(
        select(MintedId.qr_id).where(MintedId.sheet_id == sheet.id).order_by(col(MintedId.qr_id))
    ).all()
    return [(device_url(public_url, qr_id), format_id(qr_id)) for qr_id in ids]
