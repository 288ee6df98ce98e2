"""``traceability claims create|show|export|submit|verify``: thin commands over the services."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlmodel import Session

from ledger.chain import Web3Ledger
from ledger.errors import LedgerError
from ledger.verify import TrustAnchors
from traceability.accounts.services import principal_for
from traceability.anchoring.connection import managed_node, trust_path
from traceability.anchoring.service import anchor_now
from traceability.audit.claim_view import audit_view
from traceability.catalog.files import CatalogDataError
from traceability.claims.eligibility import REASONS
from traceability.claims.events import claim_events
from traceability.claims.exports.files import KINDS as EXPORT_KINDS
from traceability.claims.exports.files import write_files
from traceability.claims.exports.summary import summarise
from traceability.claims.filecheck import verify_export
from traceability.claims.models import Claim
from traceability.claims.policy import FLAGS, ClaimPolicy, claim_policy_of
from traceability.claims.services import create_claim, get_claim_by_code, submit_claim
from traceability.claims.verify import verify_file
from traceability.config import Settings
from traceability.context import Trace, cli_trace
from traceability.db import session_scope
from traceability.errors import NotFound, TraceabilityError
from traceability.reports.devices import open_reader


@contextmanager
def _session(ctx: click.Context) -> Iterator[tuple[Trace, Session]]:
    """The deployment (with its managed node running) and a committed session; errors exit 2."""
    trace = cli_trace(ctx)
    try:
        with managed_node(trace.settings), session_scope(trace.engine) as session:
            yield trace, session
    except (TraceabilityError, LedgerError) as exc:
        field = getattr(exc, "field", None)
        message = getattr(exc, "message", str(exc))
        raise click.ClickException(f"{message}{f' ({field})' if field else ''}") from None


def _policy(trace: Trace) -> ClaimPolicy:
    """The deployment's claim policy; a malformed file names the file and the key."""
    try:
        return claim_policy_of(trace.settings, trace.catalog)
    except CatalogDataError as exc:
        raise click.ClickException(str(exc)) from None


def _claim(session: Session, ref: str) -> Claim:
    claim = session.get(Claim, int(ref)) if ref.isdigit() else get_claim_by_code(session, ref)
    if claim is None:
        raise NotFound(f"no claim {ref}", field="claim")
    return claim


def _echo_claim(session: Session, trace: Trace, claim: Claim) -> None:
    ledger = open_reader(session, trace.ledger)
    summary = summarise(session, trace.catalog, claim, claim_events(session, ledger, claim))
    replay = summary.replay
    click.echo(f"claim {claim.code} (id {claim.id}) · {claim.period} · {summary.state_text}")
    click.echo(f"  mode    {summary.mode_text}")
    if summary.supplement_text:
        click.echo(f"  补报    {summary.supplement_text}")
    for text in summary.condition_texts:
        click.echo(f"  condition {text}")
    click.echo(f"  digest  {replay.digest}")
    click.echo(f"  anchor  {summary.anchor_text}")
    for text in summary.schedule_texts:
        click.echo(f"  schedule {text}")
    for line in replay.lines:
        click.echo(
            f"  {line['category_zh']:<6} {line['tier']:<24} {line['rate']:>5} 元 × "
            f"{line['units']:>7,} = {line['amount']:>11,} 元"
        )
    click.echo(f"  total   {replay.units:,} devices, {replay.total_yuan:,} 元")
    if replay.approved_yuan is not None:
        click.echo(f"  approved {replay.approved_yuan:,} 元")
    for code, count in summary.flagged:
        click.echo(f"  flagged {count:>7,}  {code} ({FLAGS.get(code, (code,))[0]})")
    click.echo(f"  excluded {replay.excluded:,} devices")
    for code, count in summary.excluded_by_reason:
        click.echo(f"    {count:>7,}  {code} ({REASONS.get(code, (code,))[0]})")
    # The figures above are the replay's; a row that disagrees is named, never shown as them.
    for mismatch in replay.mismatches:
        click.echo(f"  {mismatch.text}")


@click.group()
def claims() -> None:
    """Subsidy claims (拆解处理情况表): create, show, export, submit, verify."""


@claims.command("create")
@click.argument("period")
@click.option("--as", "username", required=True, help="the plant manager creating it")
@click.option(
    "--supplementary", is_flag=True, help="a supplement (补报) to the quarter's submitted claim"
)
@click.option(
    "--mode",
    type=click.Choice(["yuan", "quantity"]),
    default=None,
    help="quantity: certify units by category and tier, no yuan (default: as the schedules say)",
)
@click.pass_context
def claims_create(
    ctx: click.Context, period: str, username: str, supplementary: bool, mode: str | None
) -> None:
    """Create (or recompute the open draft of) the claim for PERIOD, e.g. 2026Q3: a closed
    quarter, within the claim window (TRACE_CLAIM_WINDOW_DAYS)."""
    with _session(ctx) as (trace, session):
        ledger = open_reader(session, trace.ledger)
        principal = principal_for(session=session, username=username)
        claim, created = create_claim(
            session=session,
            catalog=trace.catalog,
            principal=principal,
            period=period,
            ledger=ledger,
            settings=trace.settings,
            now=trace.now(),
            supplementary=supplementary,
            mode=mode,
            policy=_policy(trace),
            audit=audit_view(session, trace),
        )
        click.echo("created" if created else "recomputed the draft")
        _echo_claim(session, trace, claim)


@claims.command("show")
@click.argument("claim")
@click.pass_context
def claims_show(ctx: click.Context, claim: str) -> None:
    """Show CLAIM (its id or code)."""
    with _session(ctx) as (trace, session):
        _echo_claim(session, trace, _claim(session, claim))


@claims.command("export")
@click.argument("claim")
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="FILE.xlsx, FILE.csv or FILE.pdf (repeatable)",
)
@click.pass_context
def claims_export(ctx: click.Context, claim: str, outputs: tuple[Path, ...]) -> None:
    """Export CLAIM as XLSX, CSV and/or PDF (by each output's suffix)."""
    for path in outputs:
        if path.suffix.lower() not in EXPORT_KINDS:
            raise click.UsageError(f"{path}: the suffix must be .xlsx, .csv or .pdf")
    with _session(ctx) as (trace, session):
        found = _claim(session, claim)
        ledger = open_reader(session, trace.ledger)
        events = claim_events(session, ledger, found)
        summary = summarise(session, trace.catalog, found, events, ledger)
        write_files(
            session,
            trace.catalog,
            summary,
            outputs,
            cjk_font=trace.settings.cjk_font,
            public_url=trace.settings.public_url,
        )
        for path in outputs:
            click.echo(f"wrote {path} ({path.stat().st_size:,} bytes)")


@claims.command("submit")
@click.argument("claim")
@click.option("--as", "username", required=True, help="the plant manager submitting it")
@click.pass_context
def claims_submit(ctx: click.Context, claim: str, username: str) -> None:
    """Freeze CLAIM and anchor its digest."""
    with _session(ctx) as (trace, session):
        principal = principal_for(session=session, username=username)
        found = _claim(session, claim)
        submitted = submit_claim(
            session=session,
            principal=principal,
            claim_id=found.id or 0,
            now=trace.now(),
            settings=trace.settings,
        )
        try:
            run = anchor_now(trace.engine, trace.ledger)
            click.echo(f"anchored {run.events_anchored} pending event(s)")
        except LedgerError as exc:
            click.echo(f"not anchored yet ({exc}); the anchoring worker will do it")
        _echo_claim(session, trace, submitted)


@claims.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--trust",
    "trust_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the trust file the regulator publishes (default: this deployment's)",
)
@click.option(
    "--rpc",
    "rpc_url",
    help="a JSON-RPC endpoint of the chain (default: this deployment's TRACE_LEDGER_URL)",
)
@click.option(
    "--records",
    is_flag=True,
    help="also check the file against this deployment's "
    "records (opens the database; an XLSX or CSV)",
)
@click.pass_context
def claims_verify(
    ctx: click.Context, file: Path, trust_file: Path | None, rpc_url: str | None, records: bool
) -> None:
    """Check an exported XLSX, CSV or PDF against the chain alone (no database): every sheet,
    the header, the exclusions, the review column and, for a PDF, its QR; names the cell
    that differs."""
    trace = cli_trace(ctx)
    trust, chain = _verifier(trace.settings, trust_file, rpc_url)
    try:
        check = verify_export(file, trace.catalog, chain, trust)
    except (LedgerError, OSError, subprocess.CalledProcessError) as exc:
        raise click.ClickException(f"cannot verify {file}: {exc}") from None
    for note in check.notes:
        click.echo(f"note: {note}")
    problems = list(check.problems)
    if records and file.suffix.lower() != ".pdf":
        with _session(ctx) as (trace, session):
            found = verify_file(
                session, trace.catalog, file, ledger=open_reader(session, trace.ledger)
            )
        problems += [f"records: {p}" for p in found.problems]
        for warning in found.warnings:  # the database was edited; the file may still be true
            click.echo(f"WARNING: records: {warning}", err=True)
    if not problems:
        click.echo(
            f"OK: {file} — claim {check.claim}, {check.rows:,} devices, made by "
            f"{check.made_by}; matches the anchored claim on chain {trust.chain_id}"
        )
        return
    click.echo(f"FAILED: {file} (claim {check.claim or '?'})", err=True)
    for problem_text in problems:
        click.echo(f"  {problem_text}", err=True)
    ctx.exit(1)


def _verifier(
    settings: Settings, trust_file: Path | None, rpc_url: str | None
) -> tuple[TrustAnchors, Web3Ledger]:
    """The trust anchors and a read-only client of the trusted registry (no database)."""
    path = trust_file or settings.ledger_trust_file or trust_path(settings)
    url = rpc_url or settings.ledger_url
    try:
        trust = TrustAnchors.read(path)
    except (OSError, ValueError) as exc:
        raise click.UsageError(f"--trust {path}: {exc}") from None
    if not url:
        raise click.UsageError("--rpc URL is needed (this deployment names no ledger URL)")
    try:
        chain = Web3Ledger.from_rpc(url, private_key=None, contract_address=trust.registry)
    except LedgerError as exc:
        raise click.ClickException(f"cannot reach the chain at {url}: {exc}") from None
    return trust, chain
