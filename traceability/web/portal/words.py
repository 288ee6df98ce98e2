"""Words the portal's templates translate from data (statuses, event types, severities).

Listed here so that ``make messages`` extracts them; the templates call
``_(value)`` with the value itself.
"""

from __future__ import annotations

from flask_babel import lazy_gettext

WORDS = (
    # event and device verification
    lazy_gettext("verified"),
    lazy_gettext("late"),
    lazy_gettext("pending"),
    lazy_gettext("tampered"),
    lazy_gettext("broken_chain"),
    lazy_gettext("missing_on_chain"),
    lazy_gettext("untrusted"),
    lazy_gettext("failed"),
    lazy_gettext("unknown"),
    # event types
    lazy_gettext("collected"),
    lazy_gettext("shipped"),
    lazy_gettext("received"),
    lazy_gettext("stored"),
    lazy_gettext("dismantled"),
    lazy_gettext("refused"),
    lazy_gettext("corrected"),
    lazy_gettext("lot_shipped"),
    lazy_gettext("lot_received"),
    lazy_gettext("lot_treated"),
    lazy_gettext("stocktake"),
    # device states
    lazy_gettext("in_transit"),
    # lot states (shipped and received are above)
    lazy_gettext("open"),
    lazy_gettext("treated"),
    # severities
    lazy_gettext("high"),
    lazy_gettext("medium"),
    lazy_gettext("low"),
    # ledger and anchor states
    lazy_gettext("off"),
    lazy_gettext("ok"),
    lazy_gettext("unavailable"),
    lazy_gettext("chain_reset"),
    lazy_gettext("submitted"),
    lazy_gettext("confirmed"),
    lazy_gettext("final"),
    lazy_gettext("lost"),
)
