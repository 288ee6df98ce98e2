"""``traceability orgs change|show|licence``: the register from the command line (SPEC §2.8).

The CLI acts as the system admin (``services.SYSTEM``), recorded as the actor
of every change it makes. Example::

    $ traceability orgs licence issue DIS-SZ01 --kind dismantling --number 苏环废电证第003号 \
        --uscc 91320500MA1MXXXX0X --from 2024-01-01 --to 2028-12-31 \
        --scope tv=600000 --scope refrigerator=200000
    $ traceability orgs licence amend DIS-SZ01 苏环废电证第003号 --effective 2026-07-01 \
        --scope tv=600000 --scope refrigerator=200000 --scope microcomputer=150000
    $ traceability orgs licence show DIS-SZ01 --on 2026-07-15
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import click

from traceability.accounts.licences import KINDS
from traceability.context import cli_trace
from traceability.register.licensing import (
    amend_licence,
    issue_licence,
    licences_on,
    read_licences,
)
from traceability.register.log import register_of
from traceability.register.services import SYSTEM, change_org

#: The CLI's way of running a service in a committed session (``cli._run``).
Run = Callable[..., Any]


def register_commands(group: click.Group, run: Run) -> None:
    """Add ``change`` and ``show`` to the ``orgs`` group."""

    @group.command("change")
    @click.argument("code")
    @click.option("--name")
    @click.option("--region", help="6-digit GB/T 2260 code")
    @click.option("--license", "license_no")
    @click.option("--capacity", type=int, help="licensed units per year")
    @click.option("--submitter", help="the plant's anchoring address (0x…)")
    @click.pass_context
    def orgs_change(
        ctx: click.Context,
        code: str,
        name: str | None,
        region: str | None,
        license_no: str | None,
        capacity: int | None,
        submitter: str | None,
    ) -> None:
        """Change an organisation's facts: an ``org_changed`` event by the system admin."""
        facts = run(
            ctx, change_org, code=code, by=SYSTEM, name=name, region=region,
            license_no=license_no, capacity_units=capacity, submitter=submitter,
        )  # fmt: skip
        click.echo(f"organisation {facts.code} changed (region {facts.region})")

    @group.command("show")
    @click.pass_context
    def orgs_show(ctx: click.Context) -> None:
        """The register replayed from its events, as JSON; exit 1 if a row disagrees."""
        register = run(ctx, lambda session: register_of(session))
        click.echo(json.dumps([f.to_dict() for f in register.values()], indent=2))
        ctx.exit(1 if any(f.mismatch for f in register.values()) else 0)


def _scope(values: tuple[str, ...]) -> dict[str, Any] | None:
    """``--scope tv=600000 --scope HW49=8000`` as a mapping (the service checks it)."""
    if not values:
        return None
    scope: dict[str, Any] = {}
    for value in values:
        item, _, capacity = value.partition("=")
        if not capacity.strip().isdigit():
            raise click.BadParameter(
                f"{value!r}: ITEM=CAPACITY, e.g. tv=600000", param_hint="--scope"
            )
        scope[item.strip()] = int(capacity)
    return scope


_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


def register_licence_commands(group: click.Group, run: Run) -> None:
    """``orgs licence issue|amend|show``: licences are register events (SPEC §2.8)."""

    @group.group("licence")
    def licence() -> None:
        """Licences: 处理资格证书 (dismantlers), 危险废物经营许可证 (processors)."""

    for add in (_issue_command, _amend_command, _show_command):
        add(licence, run)


def _issue_command(group: click.Group, run: Run) -> None:
    @group.command("issue")
    @click.argument("code")
    @click.option("--kind", required=True, type=click.Choice(KINDS))
    @click.option("--number", required=True, help="the certificate's number")
    @click.option("--uscc", required=True, help="the holder's 统一社会信用代码")
    @click.option("--from", "valid_from", required=True, type=_DATE)
    @click.option("--to", "valid_to", required=True, type=_DATE)
    @click.option(
        "--scope",
        multiple=True,
        required=True,
        help="CATEGORY=UNITS a year (dismantling), HW49=TONNES or 900-045-49=TONNES",
    )
    @click.pass_context
    def issue(
        ctx: click.Context,
        code: str,
        kind: str,
        number: str,
        uscc: str,
        valid_from: dt.datetime,
        valid_to: dt.datetime,
        scope: tuple[str, ...],
    ) -> None:
        """Register a licence: a ``licence_issued`` event by the system admin."""
        found = run(
            ctx,
            issue_licence,
            catalog=cli_trace(ctx).catalog,
            code=code,
            by=SYSTEM,
            kind=kind,
            number=number,
            uscc=uscc,
            valid_from=valid_from.date(),
            valid_to=valid_to.date(),
            scope=_scope(scope),
        )
        click.echo(f"licence {found.number} of {code} registered ({found.kind})")


def _amend_command(group: click.Group, run: Run) -> None:
    @group.command("amend")
    @click.argument("code")
    @click.argument("number")
    @click.option("--effective", required=True, type=_DATE, help="from this day (Beijing)")
    @click.option("--to", "valid_to", type=_DATE, help="a new end of validity (earlier: revoked)")
    @click.option("--scope", multiple=True, help="the complete new scope, as for issue")
    @click.option("--uscc")
    @click.pass_context
    def amend(
        ctx: click.Context,
        code: str,
        number: str,
        effective: dt.datetime,
        valid_to: dt.datetime | None,
        scope: tuple[str, ...],
        uscc: str | None,
    ) -> None:
        """Amend a licence from a day on: a ``licence_amended`` event by the system admin."""
        run(
            ctx,
            amend_licence,
            catalog=cli_trace(ctx).catalog,
            code=code,
            by=SYSTEM,
            number=number,
            effective=effective.date(),
            valid_to=_day(valid_to),
            scope=_scope(scope),
            uscc=uscc,
        )
        click.echo(f"licence {number} of {code} amended from {effective.date()}")


def _show_command(group: click.Group, run: Run) -> None:
    @group.command("show")
    @click.argument("code")
    @click.option("--on", "day", type=_DATE, help="the terms in force that day (Beijing)")
    @click.pass_context
    def show(ctx: click.Context, code: str, day: dt.datetime | None) -> None:
        """The organisation's licences as the register's events say, as JSON."""
        book = run(ctx, lambda session: read_licences(session, [code]))
        click.echo(json.dumps(licences_on(book, code, _day(day)), ensure_ascii=False, indent=2))
