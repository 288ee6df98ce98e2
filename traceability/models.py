"""Every table, imported in one place so ``SQLModel.metadata`` is complete."""

from sqlmodel import SQLModel

from traceability.accounts.models import (
    ApiToken,
    BrowserSession,
    LoginAttempt,
    Organisation,
    User,
)
from traceability.anchoring.models import AnchorBatch, AnchorLeaf, LedgerMeta
from traceability.audit.models import AuditSnapshot
from traceability.claims.models import Claim, ClaimedDevice, ClaimExclusion, ClaimItem
from traceability.custody.models import Event
from traceability.devices.models import Device
from traceability.epcis.models import CaptureJob
from traceability.labels.models import LabelRender, LabelSheet, MintedId
from traceability.lots.models import Lot, LotItem, LotManifest
from traceability.savings.models import Batch
from traceability.verification.models import ImportRecord, TrustCheck

metadata = SQLModel.metadata

__all__ = [
    "AnchorBatch",
    "AnchorLeaf",
    "ApiToken",
    "AuditSnapshot",
    "Batch",
    "BrowserSession",
    "CaptureJob",
    "Claim",
    "ClaimExclusion",
    "ClaimItem",
    "ClaimedDevice",
    "Device",
    "Event",
    "ImportRecord",
    "LabelRender",
    "LabelSheet",
    "LedgerMeta",
    "LoginAttempt",
    "Lot",
    "LotItem",
    "LotManifest",
    "MintedId",
    "Organisation",
    "TrustCheck",
    "User",
    "metadata",
]
