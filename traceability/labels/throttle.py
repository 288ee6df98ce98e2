"""How many label sheet PDFs a user may have made, and when (issue 15, finding 10).

A 1000-label sheet holds a web worker for seconds (7 s measured), so any
operator could take the service down by asking for them in a loop. What a
collection point needs is a sheet now and then and a reprint after a paper
jam, right away, on the request: so small sheets are never kept waiting; a
user makes one large sheet at a time; and each user gets a generous hourly
budget of labels (five full sheets by default). Past it the answer is 429
with Retry-After, saying in both languages how long to wait. Counted in the
database, so every gunicorn worker sees the same renders.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from traceability.accounts.models import Principal, User
from traceability.db import begin_write
from traceability.errors import TraceabilityError
from traceability.labels.models import LabelRender


@dataclass(frozen=True)
class RenderPolicy:
    #: A sheet of more labels than this is a large render: one at a time per user.
    large: int = 100
    #: Labels a user may have rendered within the last hour.
    labels_per_hour: int = 5000
    #: A render not finished after this long is taken as dead (its worker was killed).
    stale_after: dt.timedelta = dt.timedelta(minutes=2)
    #: What a user told to wait for their running large render is asked to wait.
    busy_retry_s: int = 10


HOUR = dt.timedelta(hours=1)


class TooManyLabels(TraceabilityError):
    """Rendering this sheet now would exceed the user's share: try again in ``retry_after`` s."""

    code = "too_many_labels"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, field="sheet", retry_after=retry_after)
        self.retry_after = retry_after


def start_render(
    *, session: Session, principal: Principal, labels: int, policy: RenderPolicy, now: dt.datetime
) -> int:
    """Record a render about to start, or raise TooManyLabels; the render's id."""
    begin_write(session)
    # The user's row, locked: two requests of one user decide one after the other.
    session.exec(select(User.id).where(User.id == principal.user_id).with_for_update()).one()
    recent = session.exec(
        select(LabelRender).where(
            LabelRender.user_id == principal.user_id,
            col(LabelRender.started_at) > now - HOUR,
        )
    ).all()
    if labels > policy.large and any(
        r.finished_at is None
        and r.labels > policy.large
        and now - r.started_at < policy.stale_after
        for r in recent
    ):
        session.rollback()
        wait = policy.busy_retry_s
        raise TooManyLabels(
            f"a large label sheet of yours is still being made: try again in {wait} s "
            f"(您的一张大标签页仍在生成中，请 {wait} 秒后再试)",
            wait,
        )
    used = sum(r.labels for r in recent)
    # One sheet is always allowed in a quiet hour, however large the budget is set.
    if used and used + labels > policy.labels_per_hour:
        wait = _until_it_fits(recent, used + labels - policy.labels_per_hour, now)
        session.rollback()  # after reading ``recent``: a rollback expires them
        raise TooManyLabels(
            f"{used} labels made in the last hour, {policy.labels_per_hour} at most: "
            f"try again in {wait} s (一小时内已生成 {used} 个标签，"
            f"上限 {policy.labels_per_hour} 个，请 {wait} 秒后再试)",
            wait,
        )
    render = LabelRender(user_id=principal.user_id, labels=labels, started_at=now)
    session.add(render)
    session.commit()
    assert render.id is not None
    return render.id


def finish_render(*, session: Session, render_id: int, now: dt.datetime) -> None:
    begin_write(session)
    session.execute(
        update(LabelRender).where(col(LabelRender.id) == render_id).values(finished_at=now)
    )
    session.commit()


def _until_it_fits(recent: Sequence[LabelRender], excess: int, now: dt.datetime) -> int:
    """Whole seconds until renders of at least ``excess`` labels leave the hour."""
    freed = 0
    for render in sorted(recent, key=lambda r: r.started_at):
        freed += render.labels
        if freed >= excess:
            return max(1, math.ceil((render.started_at + HOUR - now).total_seconds()))
    return math.ceil(HOUR.total_seconds())
