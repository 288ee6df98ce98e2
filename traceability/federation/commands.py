"""``traceability import PLANT --from URL --token TOKEN [--watch]`` (registered by ``cli``)."""

from __future__ import annotations

import logging
import os

import click

from traceability.anchoring.connection import managed_node
from traceability.context import cli_trace
from traceability.federation.importer import ImportRun
from traceability.federation.service import import_plant, watch
from traceability.federation.source import ImportFailed, PlantSource

#: Outcomes in the order the summary line gives them.
OUTCOMES = (
    "imported", "late", "duplicate", "pending", "accounted", "withheld", "refused", "missing",
)  # fmt: skip


def summary(run: ImportRun) -> str:
    counts = ", ".join(f"{name} {run.counts[name]}" for name in OUTCOMES)
    return (
        f"{run.plant}: {run.received} record(s) in {run.pages} page(s), "
        f"{run.anchors_on_chain} anchor(s) on chain by {run.submitter}: {counts}"
    )


def _echo(run: ImportRun) -> None:
    for status, what, why in run.problems:
        click.echo(f"  {status:<8} {what}: {why}")
    click.echo(summary(run))


@click.command("import")
@click.argument("plant")
@click.option("--from", "url", required=True, help="the plant's deployment, https://…")
@click.option(
    "--token",
    default=lambda: os.environ.get("TRACE_IMPORT_TOKEN"),
    help="an API token of a reader at the plant (default: TRACE_IMPORT_TOKEN)",
)
@click.option("--watch", "watching", is_flag=True, help="keep importing every --interval s")
@click.option("--interval", default=300.0, show_default=True, type=click.FloatRange(min=1))
@click.pass_context
def import_command(
    ctx: click.Context, plant: str, url: str, token: str | None, watching: bool, interval: float
) -> None:
    """Import PLANT's events from its deployment, each verified against the chain first.

    What fails verification is kept as a refused import with its reason (a finding), never
    stored as a fact; an anchored record the plant cannot produce is a missing one.
    """
    if not token:
        raise click.UsageError("give --token TOKEN (or set TRACE_IMPORT_TOKEN)")
    trace = cli_trace(ctx)
    try:
        source = PlantSource(url, token)
        with managed_node(trace.settings):
            if watching:
                logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
                click.echo(
                    f"importing {plant} from {source.url} every {interval:g}s (Ctrl-C stops)",
                    err=True,
                )
                watch(trace, plant, source, interval_s=interval, report=_echo)
            else:
                run = import_plant(trace, plant, source)
                _echo(run)
                if not run.ok:
                    ctx.exit(1)
    except ImportFailed as exc:
        where = f" ({exc.field})" if exc.field else ""
        raise click.ClickException(f"{exc.message}{where}") from None
