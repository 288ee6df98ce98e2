"""One finding of an audit rule: which rule, whose records, and what they say."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from traceability.audit.ruleset import RuleSpec, Severity
from traceability.periods import quarter_of

#: How many records (event ids, devices) a finding lists; the count covers them all.
RECORDS_LISTED = 200


@dataclass(frozen=True)
class Finding:
    """``org``: the organisation whose records these are; ``at``: when it happened."""

    rule: str
    org: str
    at: dt.datetime
    subject: str  # a device, a lot, a plant, a line-day
    params: dict[str, Any] = field(default_factory=dict)
    events: tuple[str, ...] = ()  # event ids behind it
    devices: tuple[str, ...] = ()  # devices behind it
    verified: bool = False  # every record behind it verifies
    severity: Severity | None = None  # None: the rule's own
    #: When the device behind it was dismantled: the finding belongs to that period too,
    #: not only to the period of ``at`` (a correction after the close is the closed
    #: quarter's finding, for whoever reviews that quarter's claim).
    dismantled_at: dt.datetime | None = None
    claims: tuple[str, ...] = ()  # the claims holding its devices (codes)

    @property
    def dismantled_in(self) -> str | None:
        """The quarter (China time) the device behind it was dismantled in."""
        return quarter_of(self.dismantled_at).name if self.dismantled_at else None

    def severity_of(self, spec: RuleSpec) -> Severity:
        return self.severity or spec.severity

    def detail(self, spec: RuleSpec, locale: str) -> str:
        template = spec.detail_zh if locale.startswith("zh") else spec.detail_en
        suffix = "_zh" if locale.startswith("zh") else "_en"
        # A parameter in the locale's words (type_zh) wins over the code (type).
        values = dict(self.params)
        values.update(
            {k.removesuffix(suffix): v for k, v in self.params.items() if k.endswith(suffix)}
        )
        try:
            return template.format(subject=self.subject, **values)
        except (KeyError, IndexError, ValueError):  # a deployment's template naming a gap
            return template
