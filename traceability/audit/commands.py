"""``traceability audit ...``: the audit from the command line (registered by ``cli``)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import subprocess
import sys

import click

from ledger.errors import LedgerError
from traceability.accounts.services import get_org
from traceability.anchoring.connection import managed_node
from traceability.anchoring.service import reader_ledger
from traceability.anchoring.worker import ParentGone
from traceability.audit import refresh as refresher
from traceability.audit.check import check_snapshots
from traceability.audit.ruleset import load_ruleset
from traceability.audit.sampling import METHOD, Sample, SampledDevice, audit_sample
from traceability.context import cli_trace
from traceability.db import session_scope
from traceability.errors import TraceabilityError
from traceability.periods import CHINA, parse_period

WHY_NONE = {
    "open": "the period has not closed yet: no sample can exist before its close",
    "waiting": "no block has been produced since the period closed yet: try again later",
    "no_ledger": "no ledger is configured: the sample is seeded by a block hash",
    "untrusted": "the ledger is not the trusted one",
}


@click.group("audit")
def audit_commands() -> None:
    """Regulator audit: sampling for video review, the findings' snapshots."""


def _china(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(CHINA).isoformat() if moment else None


def _order_line(device: SampledDevice) -> dict[str, object]:
    """A work-order line, its times in Beijing time (+08:00)."""
    return {
        "qr_id": device.qr_id,
        "day": device.day,
        "dismantled_at": _china(device.dismantled_at),
        "line": device.line,
        "category": device.category,
        "operator": device.operator,
        "video": {"from": _china(device.video_from), "to": _china(device.video_to)},
    }


def sample_text(sample: Sample) -> dict[str, object]:
    block = sample.block
    return {
        "plant": sample.plant,
        "period": sample.period,
        "status": sample.status,
        "block": {
            "number": block.number,
            "hash": block.hash,
            "timestamp": dt.datetime.fromtimestamp(block.timestamp, CHINA).isoformat(),
        }
        if block
        else None,
        "seed": sample.seed,
        "method": METHOD,
        "candidates": {"days": sample.candidate_days, "devices": sample.candidate_devices},
        "days": list(sample.days),
        "devices": [_order_line(d) for d in sample.devices],
        "seeded_by_genesis": sample.seeded_by_genesis,
    }


@audit_commands.command("sample")
@click.argument("plant")
@click.argument("period")
@click.pass_context
def sample(ctx: click.Context, plant: str, period: str) -> None:
    """Dismantling days and devices of PLANT in PERIOD (2026Q3, 2026-09) for video review.

    Seeded by the first block after the period closed: the same sample on
    every run, and anyone can redo it from the block hash (the method is printed).
    """
    trace = cli_trace(ctx)
    try:
        with managed_node(trace.settings), session_scope(trace.engine) as session:
            get_org(session, plant)
            drawn = audit_sample(
                session,
                reader_ledger(session, trace.ledger),
                plant=plant,
                period=parse_period(period),
                sizes=load_ruleset().sampling,
                now=trace.now(),
            )
    except TraceabilityError as exc:
        where = f" ({exc.field})" if exc.field else ""
        raise click.ClickException(f"{exc.message}{where}") from None
    except LedgerError as exc:
        raise click.ClickException(f"ledger: {exc}") from None
    click.echo(json.dumps(sample_text(drawn), indent=2, ensure_ascii=False))
    if not drawn.drawn:
        raise click.ClickException(f"no sample: {WHY_NONE[drawn.status]}")


def _one_pass() -> None:
    """A refresh pass in a process of its own: its memory is returned to the system after it."""
    done = subprocess.run(
        [sys.executable, "-m", "traceability.cli", "audit", "refresh", "--due"], check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"audit refresh pass exited with {done.returncode}")


@audit_commands.command("refresh")
@click.option("--watch", is_flag=True, help="keep refreshing what is due (TRACE_AUDIT_*)")
@click.option("--parent-pid", type=int, hidden=True, help="stop watching when it exits")
@click.option(
    "--due",
    is_flag=True,
    help="only the periods that are due; a closed quarter the new events cannot change is "
    "carried forward, not replayed",
)
@click.option("--force", is_flag=True, help="replay every kept period from the log (the default)")
@click.option(
    "--check",
    is_flag=True,
    help="recompute every kept period and compare with the stored snapshots, writing "
    "nothing; exit 1 naming each difference",
)
@click.pass_context
def refresh_command(
    ctx: click.Context, watch: bool, parent_pid: int | None, due: bool, force: bool, check: bool
) -> None:
    """Recompute the audit findings and portal figures of the kept periods, off the web.

    Without --watch: every kept period now (after a repair, or in a test).
    With --watch: what is due — the log or the anchors changed and the
    snapshot is older than TRACE_AUDIT_REFRESH_S, or it is older than
    TRACE_AUDIT_RECHECK_S, or it is not what it says (dated in the future,
    naming a log state the log does not hold, its seal fails).
    With --check: nothing is written; every difference is printed.
    """
    trace = cli_trace(ctx)
    settings = trace.settings
    with managed_node(settings):  # verification asks the chain (serve runs the node)
        if check:
            checked = check_snapshots(trace)
            for difference in checked.differences:
                click.echo(str(difference))
            if checked.differences:
                raise click.ClickException(
                    f"{len(checked.differences)} difference(s) between the stored audit "
                    "snapshots and the log"
                )
            click.echo(f"audit snapshots of {', '.join(checked.periods)} match the log")
            return
        if watch:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
            parent = ParentGone(parent_pid) if parent_pid else None
            click.echo(f"refreshing audit snapshots when due (TRACE_AUDIT_REFRESH_S="
                       f"{settings.audit_refresh_s}); Ctrl-C stops")  # fmt: skip
            refresher.watch(
                trace, stop=parent.is_set if parent else lambda: False, run_pass=_one_pass
            )
            return
        if due and force:
            raise click.UsageError("--due and --force exclude each other")
        run = refresher.refresh(trace, force=not due)
    carried = f"; carried forward unreplayed: {', '.join(run.carried)}" if run.carried else ""
    click.echo(f"audit snapshots of {', '.join(run.periods) or 'no period'} computed in "
               f"{run.took_s:.1f}s (log up to seq {run.last_seq}){carried}")  # fmt: skip
