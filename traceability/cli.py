"""The ``traceability`` console script: thin click commands over the services."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import click
from flask import Flask

from ledger.errors import LedgerError
from traceability import create_app
from traceability.accounts import services as accounts
from traceability.db import Database, session_scope
from traceability.errors import TraceabilityError


def _app(ctx: click.Context) -> Flask:
    if ctx.obj is None:
        ctx.obj = create_app()
    app: Flask = ctx.obj
    return app


def _run(ctx: click.Context, fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Run a service in a committed session; domain errors become a clean exit 2."""
    app = _app(ctx)
    try:
        with app.app_context(), session_scope(Database.engine(app)) as session:
            return fn(session=session, **kwargs)
    except TraceabilityError as exc:
        where = f" ({exc.field})" if exc.field else ""
        raise click.ClickException(f"{exc.message}{where}") from None


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """WEEE recycling traceability."""


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the database schema (Alembic)."""
    from traceability import schema
    from traceability.anchoring.connection import ensure_ready, managed_node, open_ledger

    app = _app(ctx)
    settings = app.config["TRACE_SETTINGS"]
    schema.upgrade(Database.engine(app))
    click.echo(f"database ready: {Database.engine(app).url.render_as_string()}")
    if settings.ledger_mode in ("managed", "rpc"):
        try:
            with managed_node(settings), session_scope(Database.engine(app)) as session:
                handle = open_ledger(app)
                ensure_ready(session, handle)
                click.echo(
                    f"ledger ready: registry {handle.submitter.contract_address} "
                    f"at {handle.submitter.rpc_url}"
                )
        except LedgerError as exc:
            click.echo(f"ledger NOT ready: {exc}", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the app with gunicorn."""
    from traceability.server import serve as run_server

    run_server(host=host, port=port, workers=workers, settings=_app(ctx).config["TRACE_SETTINGS"])


@main.command()
@click.option("--devices", default=3000, show_default=True, type=int)
@click.option("--seed", default=2026, show_default=True, type=int)
@click.pass_context
def demo(ctx: click.Context, devices: int, seed: int) -> None:
    """Load the demo data set (idempotent: does nothing if it is already there)."""
    from traceability import demo as demo_data
    from traceability import schema

    app = _app(ctx)
    schema.upgrade(Database.engine(app))
    with app.app_context():
        summary = demo_data.load(app, devices=devices, seed=seed)
    click.echo(summary)


@main.command()
@click.option("--watch", is_flag=True, help="keep anchoring every TRACE_ANCHOR_INTERVAL_S")
@click.option("--repair", is_flag=True, help="re-anchor every batch missing on chain")
@click.option("--parent-pid", type=int, hidden=True, help="stop watching when it exits")
@click.pass_context
def anchor(ctx: click.Context, watch: bool, repair: bool, parent_pid: int | None) -> None:
    """Anchor pending events to the ledger in Merkle batches."""
    from traceability.anchoring import worker
    from traceability.anchoring.connection import managed_node, open_ledger

    app = _app(ctx)
    settings = app.config["TRACE_SETTINGS"]
    engine = Database.engine(app)
    try:
        with managed_node(settings):
            handle = open_ledger(app)
            if repair:
                run = worker.repair(engine, handle, confirmations=settings.ledger_confirmations)
                click.echo(
                    f"repair: {run.events_anchored} events re-anchored in {len(run.sent)} batch(es)"
                )
            elif watch:
                logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
                click.echo(f"anchoring every {settings.anchor_interval_s}s (Ctrl-C stops)")
                worker.watch(
                    engine,
                    handle,
                    max_size=settings.anchor_batch_max,
                    confirmations=settings.ledger_confirmations,
                    interval_s=settings.anchor_interval_s,
                    stop=worker.ParentGone(parent_pid) if parent_pid else None,
                )
            else:
                run = worker.run_once(
                    engine,
                    handle,
                    max_size=settings.anchor_batch_max,
                    confirmations=settings.ledger_confirmations,
                )
                last = run.last
                click.echo(
                    f"anchored {run.events_anchored} events in {len(run.sent)} "
                    f"batch(es)"
                    + (f"; last root {last.root} in block {last.block_number}" if last else "")
                )
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.argument("qr_id", required=False)
@click.option("--all", "all_", is_flag=True, help="every event of every device and lot")
@click.pass_context
def verify(ctx: click.Context, qr_id: str | None, all_: bool) -> None:
    """Verify events against digests, chains, Merkle batches and the ledger."""
    from traceability.anchoring.connection import managed_node
    from traceability.verification import audit

    if bool(qr_id) == all_:
        raise click.UsageError("give a QR_ID or --all")
    app = _app(ctx)
    try:
        with managed_node(app.config["TRACE_SETTINGS"]), app.app_context():
            ok = audit.verify_cli(app, qr_id=qr_id, echo=click.echo)
    except (LedgerError, TraceabilityError) as exc:
        raise click.ClickException(str(exc)) from None
    ctx.exit(0 if ok else 1)


@main.group()
def ledger() -> None:
    """The ledger: deploy the registry, show status."""


@ledger.command("deploy")
@click.pass_context
def ledger_deploy(ctx: click.Context) -> None:
    """Deploy the AnchorRegistry (owner key) and authorise this deployment's submitter."""
    from traceability.anchoring.connection import deploy, managed_node, open_ledger

    app = _app(ctx)
    try:
        with (
            managed_node(app.config["TRACE_SETTINGS"]),
            session_scope(Database.engine(app)) as session,
        ):
            address = deploy(session, open_ledger(app))
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"registry deployed at {address}")


@ledger.command("status")
@click.pass_context
def ledger_status(ctx: click.Context) -> None:
    """Chain id, registry, block height and pending events."""
    import json

    from traceability.anchoring.connection import managed_node
    from traceability.anchoring.service import ledger_status as status

    app = _app(ctx)
    with (
        managed_node(app.config["TRACE_SETTINGS"]),
        app.app_context(),
        session_scope(Database.engine(app)) as session,
    ):
        click.echo(json.dumps(status(session), indent=2, ensure_ascii=False))


@main.group()
def orgs() -> None:
    """Organisations."""


@orgs.command("add")
@click.argument("code")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["collector", "dismantler", "processor", "regulator"]),
)
@click.option("--name", required=True)
@click.option("--region", required=True, help="6-digit GB/T 2260 code")
@click.option("--license", "license_no")
@click.option("--capacity", type=int, help="licensed units per year")
@click.pass_context
def orgs_add(
    ctx: click.Context,
    code: str,
    kind: str,
    name: str,
    region: str,
    license_no: str | None,
    capacity: int | None,
) -> None:
    org = _run(
        ctx,
        accounts.add_org,
        code=code,
        kind=kind,
        name=name,
        region=region,
        license_no=license_no,
        capacity_units=capacity,
    )
    click.echo(f"organisation {org.code} ({org.kind}, region {org.region}) added")


@main.group()
def users() -> None:
    """Users."""


@users.command("add")
@click.argument("username")
@click.option("--org", "org_code", required=True)
@click.option(
    "--role", required=True, type=click.Choice(["operator", "manager", "auditor", "admin"])
)
@click.option("--password", help="omit for token-only (handheld) users")
@click.pass_context
def users_add(
    ctx: click.Context, username: str, org_code: str, role: str, password: str | None
) -> None:
    user = _run(
        ctx, accounts.add_user, username=username, org_code=org_code, role=role, password=password
    )
    click.echo(f"user {user.username} ({user.role}) added")


@main.group()
def tokens() -> None:
    """API tokens for handhelds."""


@tokens.command("create")
@click.argument("username")
@click.option("--label", help="e.g. the scanner's asset number")
@click.pass_context
def tokens_create(ctx: click.Context, username: str, label: str | None) -> None:
    """Print a new token (alone on the last line; it is shown only once)."""
    token = _run(ctx, accounts.create_token, username=username, label=label)
    click.echo(f"token for {username} (store it now, it is not shown again):", err=True)
    click.echo(token)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
