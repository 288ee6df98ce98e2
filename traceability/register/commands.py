"""``traceability orgs change|show``: the register from the command line (SPEC §2.8).

The CLI acts as the system admin (``services.SYSTEM``), recorded as the actor
of every change it makes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

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
