"""Words the portal's templates translate from data (statuses, event types, severities).

Listed here so that ``make messages`` extracts them; the templates call
``_(value)`` with the value itself.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

WORDS = (
    # event and device verification
    _l("verified"), _l("pending"), _l("tampered"), _l("broken_chain"),
    _l("missing_on_chain"), _l("untrusted"), _l("failed"), _l("unknown"),
    # event types
    _l("collected"), _l("shipped"), _l("received"), _l("stored"), _l("dismantled"),
    _l("refused"), _l("corrected"), _l("lot_shipped"), _l("lot_received"), _l("lot_treated"),
    # device states
    _l("in_transit"),
    # severities
    _l("high"), _l("medium"), _l("low"),
    # ledger and anchor states
    _l("off"), _l("ok"), _l("unavailable"), _l("chain_reset"), _l("submitted"),
    _l("confirmed"), _l("final"), _l("lost"),
)  # fmt: skip
