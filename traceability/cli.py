"""The ``traceability`` console script: thin click commands over the services.

Every command gets the deployment's context the one way: ``cli_trace(ctx)``,
the ``obj`` of the root command (built from the ``TRACE_*`` variables when the
caller passed none; a test passes its app's, ``obj=trace_of(app)``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import sqlalchemy
from sqlalchemy.exc import DBAPIError
from tqdm import tqdm

from ledger.errors import LedgerError, NotAuthorised
from ledger.redact import redact_url
from ledger.verify import TrustAnchors
from traceability import demo as demo_data
from traceability import migrate
from traceability.accounts import services as accounts
from traceability.accounts.models import OrgKind, Role
from traceability.anchoring import worker
from traceability.anchoring.connection import (
    deploy_once,
    ensure_ready,
    managed_node,
    open_ledger,
    trust_path,
    trusted,
    write_trust,
)
from traceability.anchoring.repair import repair as repair_chain
from traceability.audit.commands import audit_commands
from traceability.audit.refresh import refresh
from traceability.claims_cli import claims
from traceability.context import Trace, cli_trace
from traceability.db import session_scope
from traceability.demo import tampering
from traceability.demo.anchoring import anchored_daily
from traceability.errors import TraceabilityError
from traceability.federation.commands import import_command
from traceability.register import services as register
from traceability.register import submitters
from traceability.register.commands import register_commands, register_licence_commands
from traceability.server import serve as run_server
from traceability.verification import reconciliation
from traceability.verification.completeness import check_and_record
from traceability.verification.status import ledger_status as current_ledger_status


def _run(ctx: click.Context, fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Run a service in a committed session; domain errors become a clean exit 2."""
    trace = cli_trace(ctx)
    try:
        with session_scope(trace.engine) as session:
            return fn(session=session, **kwargs)
    except TraceabilityError as exc:
        where = f" ({exc.field})" if exc.field else ""
        raise click.ClickException(f"{exc.message}{where}") from None


class _Commands(click.Group):
    """The root command: a database without tables is named, with the command to run first."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DBAPIError:
            trace = ctx.find_root().obj
            if isinstance(trace, Trace) and not sqlalchemy.inspect(trace.engine).has_table("event"):
                raise click.ClickException(
                    f"the database {trace.engine.url.render_as_string()} has no tables yet: "
                    "run `traceability init` first"
                ) from None
            raise


@click.group(cls=_Commands)
@click.pass_context
def main(ctx: click.Context) -> None:
    """WEEE recycling traceability."""


main.add_command(claims)
main.add_command(audit_commands)
main.add_command(import_command)


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the database schema (Alembic)."""

    trace = cli_trace(ctx)
    settings = trace.settings
    migrate.upgrade(trace.engine)
    click.echo(f"database ready: {trace.engine.url.render_as_string()}")
    if settings.ledger_mode in ("managed", "rpc"):
        try:
            with managed_node(settings), session_scope(trace.engine) as session:
                handle = open_ledger(trace.ledger)
                ensure_ready(session, handle)
                click.echo(
                    f"ledger ready: registry {handle.submitter.contract_address} "
                    f"at {redact_url(handle.submitter.rpc_url)}"
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

    run_server(host=host, port=port, workers=workers, settings=cli_trace(ctx).settings)


@main.command()
@click.option("--devices", default=3000, show_default=True, type=int)
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option(
    "--tamper",
    is_flag=True,
    help="then edit three records in the database as its administrator might (see "
    "traceability/demo/tampering.py): the findings only tampering raises",
)
@click.pass_context
def demo(ctx: click.Context, devices: int, seed: int, tamper: bool) -> None:
    """Load the demo data set (idempotent: does nothing if it is already there)."""

    trace = cli_trace(ctx)
    migrate.upgrade(trace.engine)
    if demo_data.present(trace):
        summary = demo_data.load(trace, devices=devices, seed=seed)
        if tamper:
            summary += "\nAlready loaded: not tampered with again."
    else:
        with anchored_daily(trace) as after_day:
            summary = demo_data.load(trace, devices=devices, seed=seed, after_day=after_day)
        if tamper:
            refresh(trace, force=True)  # the snapshots one of the edits dates ahead
            summary += "\n" + tampering.tamper(trace)
    click.echo(summary)


@main.command()
@click.option("--watch", is_flag=True, help="keep anchoring every TRACE_ANCHOR_INTERVAL_S")
@click.option("--repair", is_flag=True, help="re-anchor every batch missing on chain")
@click.option("--parent-pid", type=int, hidden=True, help="stop watching when it exits")
@click.pass_context
def anchor(ctx: click.Context, watch: bool, repair: bool, parent_pid: int | None) -> None:
    """Anchor pending events to the ledger in Merkle batches."""

    trace = cli_trace(ctx)
    settings, engine = trace.settings, trace.engine
    try:
        with managed_node(settings):
            handle = open_ledger(trace.ledger)
            if repair:
                run = repair_chain(
                    engine,
                    handle,
                    confirmations=settings.ledger_confirmations,
                    announce=lambda line: click.echo(line, err=True),
                )
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
                    every_so_often=lambda: _check_completeness(engine, handle, settings),
                    often_s=settings.completeness_interval_s,
                    lease_s=settings.anchor_lease_s,
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
    except NotAuthorised as exc:
        raise click.ClickException(
            f"{exc}: the registry does not (or no longer) accept this deployment's submitter "
            "key; the regulator authorises its address (`traceability ledger authorize`) and "
            "publishes the trust file again"
        ) from None
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from None


def _check_completeness(engine: Any, handle: Any, settings: Any) -> None:
    """The watch loop's scheduled check: every anchored event still in the database."""

    result = check_and_record(engine, handle, settings)
    level = logging.INFO if result.ok else logging.ERROR
    detail = result.detail() or f"every event of {result.anchors_on_chain} anchors is present"
    logging.getLogger("traceability.completeness").log(level, "completeness: %s", detail)


@main.command()
@click.argument("qr_id", required=False)
@click.option("--all", "all_", is_flag=True, help="every event of every device and lot")
@click.option(
    "--submitter",
    "submitters",
    multiple=True,
    help="accepted submitter address whose anchors must all be in the database "
    "(repeatable; default: the trust anchors'). No key is needed.",
)
@click.pass_context
def verify(ctx: click.Context, qr_id: str | None, all_: bool, submitters: tuple[str, ...]) -> None:
    """Verify events against digests, chains, Merkle batches and the ledger."""

    if bool(qr_id) == all_:
        raise click.UsageError("give a QR_ID or --all")
    trace = cli_trace(ctx)
    try:
        with managed_node(trace.settings):
            if qr_id is not None:
                device = reconciliation.verify_one_device(trace, qr_id=qr_id, submitters=submitters)
                _echo_device_report(device)
                ok = device.ok
            else:
                report = reconciliation.verify_everything(
                    trace, submitters=submitters, progress=_progress_bar
                )
                _echo_full_report(report)
                ok = report.ok
    except (LedgerError, TraceabilityError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    ctx.exit(0 if ok else 1)


@contextlib.contextmanager
def _progress_bar(total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr, shown only on a terminal."""
    with tqdm(total=total, unit="ev", desc="verifying", disable=None) as bar:
        yield bar.update


def _echo_device_report(report: reconciliation.DeviceReport) -> None:
    if report.trust_problem:
        click.echo(f"ledger not trusted: {report.trust_problem}")
    device = report.device
    for event_id, status in device.events:
        click.echo(f"  {status:<17} {event_id}")
    if not device.head_matches:
        click.echo("  broken_chain      the device's latest event is missing")
    if device.ledger_problem:
        click.echo(device.ledger_problem)
    click.echo(f"{device.qr_id}: {'VERIFIED' if device.verified else 'NOT VERIFIED'}")


def _echo_full_report(report: reconciliation.FullReport) -> None:
    if report.trust_problem:
        click.echo(f"ledger not trusted: {report.trust_problem}")
    for problem in report.problems:
        click.echo(f"  {problem.status:<17} {problem.subject} {problem.event_id}")
    click.echo("events: " + ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())))
    if report.missing_on_chain_hint:
        click.echo(report.missing_on_chain_hint)
    for anchors in report.anchors:
        click.echo(f"anchors on chain by {anchors.submitter}: {anchors.on_chain}")
        for root in anchors.missing_batches:
            click.echo(f"  batch {root} is anchored on chain but missing from the database")
        for root, gone in anchors.missing_events.items():
            click.echo(f"  batch {root}: {gone} anchored event(s) missing from the database")
    if report.anchors_unlisted is not None:
        click.echo(f"anchors on chain cannot be listed: {report.anchors_unlisted}")
    click.echo("ALL VERIFIED" if report.ok else "NOT VERIFIED")


@main.group()
def ledger() -> None:
    """The ledger: the regulator deploys the registry and authorises plants; status, trust.

    \b
    The regulator (TRACE_LEDGER_OWNER_KEY, its own instance):
      traceability ledger deploy --out trust.json
      traceability orgs add CODE …
      traceability ledger authorize ADDR --org CODE --out trust.json
    A plant (TRACE_LEDGER_KEY, TRACE_LEDGER_TRUST_FILE=trust.json):
      traceability init
    """


_OUT = click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="write the trust file here instead of printing it",
)


def _publish(trust: TrustAnchors | None, out: Path | None) -> None:
    """The trust file, once: on stdout (alone), or written to ``out``."""
    if trust is None:
        return
    if out is None:
        click.echo(json.dumps(trust.to_dict(), indent=2))
        return
    write_trust(out, trust)
    click.echo(
        f"trust file written to {out}: publish it (a plant sets TRACE_LEDGER_TRUST_FILE to it)",
        err=True,
    )


@ledger.command("deploy")
@_OUT
@click.option("--replace", is_flag=True, help="deploy a new registry even if one is recorded here")
@click.pass_context
def ledger_deploy(ctx: click.Context, out: Path | None, replace: bool) -> None:
    """Deploy the AnchorRegistry with the owner key (the regulator); print its trust file.

    Needs no `init` first. Run again, it reports the registry already recorded here.
    """
    trace = cli_trace(ctx)
    migrate.upgrade(trace.engine)  # a fresh data directory: the database is made here
    try:
        with managed_node(trace.settings), session_scope(trace.engine) as session:
            handle = open_ledger(trace.ledger)
            address, deployed = deploy_once(session, handle, replace=replace)
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from None
    if deployed:
        click.echo(f"registry deployed at {address}", err=True)
    else:
        click.echo(
            f"registry already deployed at {address} (recorded in "
            f"{trust_path(trace.settings)}); `--replace` deploys a new one",
            err=True,
        )
    _publish(handle.trust, out)


@ledger.command("authorize")
@click.argument("address")
@click.option("--org", "org_code", required=True, help="the organisation the address anchors for")
@_OUT
@click.pass_context
def ledger_authorize(ctx: click.Context, address: str, org_code: str, out: Path | None) -> None:
    """Authorise ADDRESS to anchor for --org (owner key); recorded in the register."""
    trace = cli_trace(ctx)
    migrate.upgrade(trace.engine)
    try:
        with managed_node(trace.settings):
            done = _run(
                ctx, submitters.authorise, handle=open_ledger(trace.ledger),
                address=address, org_code=org_code,
            )  # fmt: skip
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from None
    if done.tx_hash is None:
        click.echo(f"{done.address} is already authorised for {done.org}", err=True)
    else:
        click.echo(
            f"{done.address} authorised for {done.org} (tx {done.tx_hash} in block "
            f"{done.block_number}; recorded in the organisation register)",
            err=True,
        )
    if not done.funded:
        click.echo(
            f"warning: {done.address} holds no ether: it cannot pay for anchors until funded",
            err=True,
        )
    _publish(done.trust, out)


@ledger.command("revoke")
@click.argument("address")
@_OUT
@click.pass_context
def ledger_revoke(ctx: click.Context, address: str, out: Path | None) -> None:
    """Withdraw ADDRESS's right to anchor (owner key); its earlier anchors still count."""
    trace = cli_trace(ctx)
    migrate.upgrade(trace.engine)
    try:
        with managed_node(trace.settings):
            done = _run(ctx, submitters.revoke, handle=open_ledger(trace.ledger), address=address)
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from None
    held = f" (the submitter of {done.org}, recorded in the register)" if done.org else ""
    click.echo(
        f"{done.address} revoked in block {done.block_number}{held}: its anchors after that "
        "block do not count",
        err=True,
    )
    _publish(done.trust, out)


@ledger.command("trust")
@_OUT
@click.pass_context
def ledger_trust(ctx: click.Context, out: Path | None) -> None:
    """Print the trust anchors a regulator publishes (for `python -m ledger.verify --trust`)."""
    trace = cli_trace(ctx)
    try:
        with managed_node(trace.settings), session_scope(trace.engine) as session:
            trust = trusted(session, open_ledger(trace.ledger))
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from None
    _publish(trust, out)


@ledger.command("status")
@click.pass_context
def ledger_status(ctx: click.Context) -> None:
    """Chain id, registry, block height and pending events."""

    trace = cli_trace(ctx)
    with managed_node(trace.settings), session_scope(trace.engine) as session:
        click.echo(
            json.dumps(current_ledger_status(session, trace.ledger), indent=2, ensure_ascii=False)
        )


@main.group()
def orgs() -> None:
    """Organisations."""


@orgs.command("add")
@click.argument("code")
@click.option(
    "--kind",
    required=True,
    type=click.Choice([kind.value for kind in OrgKind]),
)
@click.option("--name", required=True)
@click.option("--region", required=True, help="6-digit GB/T 2260 code")
@click.option("--license", "license_no")
@click.option("--capacity", type=int, help="licensed units per year")
@click.option("--submitter", help="the plant's anchoring address (0x…), when known")
@click.pass_context
def orgs_add(
    ctx: click.Context,
    code: str,
    kind: str,
    name: str,
    region: str,
    license_no: str | None,
    capacity: int | None,
    submitter: str | None,
) -> None:
    """Register an organisation: an ``org_registered`` event by the system admin (SPEC §2.8)."""
    org = _run(
        ctx,
        register.register_org,
        code=code,
        kind=kind,
        name=name,
        region=region,
        license_no=license_no,
        capacity_units=capacity,
        submitter=submitter,
    )
    click.echo(f"organisation {org.code} ({org.kind}, region {org.region}) added")


register_commands(orgs, _run)
register_licence_commands(orgs, _run)


@main.group()
def users() -> None:
    """Users."""


def _stdin_is_interactive() -> bool:
    return sys.stdin.isatty()


def _read_password(password: str | None, password_stdin: bool, no_password: bool) -> str | None:
    """The new user's password, from the prompt, stdin or (discouraged) the command line."""
    if sum((password is not None, password_stdin, no_password)) > 1:
        raise click.UsageError("give only one of --password, --password-stdin, --no-password")
    if no_password:
        return None
    if password is not None:
        click.echo(
            "warning: a password given with --password lands in shell history and the "
            "process list; omit it to be prompted, or use --password-stdin",
            err=True,
        )
        return password
    if password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise click.UsageError("--password-stdin: stdin gave no password")
        return line
    if _stdin_is_interactive():
        entered: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        return entered
    return None


@users.command("add")
@click.argument("username")
@click.option("--org", "org_code", required=True)
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--password", help="discouraged (shell history): omit it to be prompted")
@click.option("--password-stdin", is_flag=True, help="read the password from one line of stdin")
@click.option("--no-password", is_flag=True, help="a token-only (handheld) user")
@click.pass_context
def users_add(
    ctx: click.Context,
    username: str,
    org_code: str,
    role: str,
    password: str | None,
    password_stdin: bool,
    no_password: bool,
) -> None:
    """Add a user. Without a terminal, --password-stdin or --password it is token-only."""
    secret = _read_password(password, password_stdin, no_password)
    user = _run(
        ctx, accounts.add_user, username=username, org_code=org_code, role=role, password=secret
    )
    click.echo(f"user {user.username} ({user.role}) added")
    if secret is None:
        hint = "" if no_password else " (no terminal to prompt on: use --password-stdin to set one)"
        click.echo(f"{user.username} has no password: a token-only user{hint}", err=True)


@users.command("disable")
@click.argument("username")
@click.pass_context
def users_disable(ctx: click.Context, username: str) -> None:
    """Stop the user signing in; every one of its tokens stops working at once."""
    user = _run(ctx, accounts.disable_user, username=username)
    click.echo(f"user {user.username} disabled: its password and tokens no longer work")


@users.command("enable")
@click.argument("username")
@click.pass_context
def users_enable(ctx: click.Context, username: str) -> None:
    """Undo `users disable`: its unrevoked, unexpired tokens work again."""
    user = _run(ctx, accounts.enable_user, username=username)
    click.echo(
        f"user {user.username} enabled: its tokens that are neither revoked nor expired "
        "work again (see `tokens list`)"
    )


@main.group()
def tokens() -> None:
    """API tokens for handhelds."""


def _when(value: dt.datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}"


@tokens.command("create")
@click.argument("username")
@click.option("--label", help="e.g. the scanner's asset number")
@click.option(
    "--ttl-days",
    type=click.IntRange(1, accounts.MAX_TOKEN_TTL_DAYS),
    help="lifetime in days  [default: TRACE_TOKEN_TTL_DAYS]",
)
@click.pass_context
def tokens_create(
    ctx: click.Context, username: str, label: str | None, ttl_days: int | None
) -> None:
    """Print a new token (alone on the last line; it is shown only once)."""
    ttl = ttl_days or cli_trace(ctx).settings.token_ttl_days
    issued = _run(ctx, accounts.create_token, username=username, label=label, ttl_days=ttl)
    click.echo(
        f"token {issued.id} for {username}, expires {_when(issued.expires_at)} UTC "
        "(store it now, it is not shown again):",
        err=True,
    )
    click.echo(issued.token)


@tokens.command("list")
@click.argument("username", required=False)
@click.pass_context
def tokens_list(ctx: click.Context, username: str | None) -> None:
    """Every token (of USERNAME): id, user, label, dates, status. Never the secret."""
    rows = _run(ctx, accounts.list_tokens, username=username)
    now = dt.datetime.now(dt.UTC)
    click.echo(
        f"{'id':>6}  {'user':<16} {'label':<24} {'created':<16}  {'expires':<16}  "
        f"{'revoked':<16}  status"
    )
    for t in rows:
        click.echo(
            f"{t.id:>6}  {t.username:<16} {t.label or '-':<24} {_when(t.created_at):<16}  "
            f"{_when(t.expires_at):<16}  {_when(t.revoked_at):<16}  {t.status(now)}"
        )


@tokens.command("revoke")
@click.argument("token_id", type=int, required=False)
@click.option(
    "--token-stdin", is_flag=True, help="revoke the token read from stdin (e.g. one that leaked)"
)
@click.pass_context
def tokens_revoke(ctx: click.Context, token_id: int | None, token_stdin: bool) -> None:
    """Revoke a token by the id `tokens list` shows (or the token itself on stdin)."""
    if (token_id is None) == (not token_stdin):
        raise click.UsageError("give a TOKEN_ID or --token-stdin")
    if token_stdin:
        token = sys.stdin.readline().strip()
        if not token:
            raise click.UsageError("--token-stdin: stdin gave no token")
        row = _run(ctx, accounts.revoke_token, token=token)
    else:
        row = _run(ctx, accounts.revoke_token_id, token_id=token_id)
    click.echo(f"token {row.id} revoked on {_when(row.revoked_at)} UTC")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
