"""One deployment context (STYLE §13): built once, reached by type, the same for the CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import click
import pytest
from click.testing import CliRunner
from flask import Flask

from traceability import create_app
from traceability.anchoring.connection import open_ledger
from traceability.app import trace_of
from traceability.cli import main
from traceability.clock import FixedClock
from traceability.config import Settings
from traceability.context import Trace, build_trace, cli_trace

NOON = dt.datetime(2026, 8, 3, 4, tzinfo=dt.UTC)


def test_the_app_keeps_the_context_it_was_built_with(settings: dict[str, Any]) -> None:
    app = create_app(settings, clock=FixedClock(NOON))
    trace = trace_of(app)
    assert trace.now() == NOON
    assert trace.settings.resolved_database_url == settings["database_url"]
    assert app.config["SECRET_KEY"] == trace.secret_key
    assert trace_of(app) is trace  # built once, not per look-up
    with pytest.raises(dataclasses.FrozenInstanceError):
        trace.clock = FixedClock(NOON)  # type: ignore[misc]
    trace.engine.dispose()


def test_an_app_not_built_by_the_factory_has_no_context() -> None:
    with pytest.raises(TypeError, match="create_app"):
        trace_of(Flask(__name__))


def test_the_ledger_is_opened_on_first_use_and_kept(settings: dict[str, Any]) -> None:
    trace = build_trace(Settings(**{**settings, "ledger_mode": "memory"}))
    assert trace.ledger.settings is trace.settings
    assert trace.ledger.opened is None  # nothing is opened before it is needed
    first = open_ledger(trace.ledger)
    assert open_ledger(trace.ledger) is first  # the in-process chain lives as long as the context
    assert open_ledger(build_trace(trace.settings).ledger) is not first  # another deployment's
    trace.engine.dispose()


def test_the_cli_uses_the_context_it_is_given(app: Flask) -> None:
    done = CliRunner().invoke(main, ["ledger", "status"], obj=trace_of(app))
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["status"] == "off"  # the test app's settings, not TRACE_*


def test_the_cli_refuses_anything_but_a_context(app: Flask) -> None:
    @click.command()
    @click.pass_context
    def probe(ctx: click.Context) -> None:
        click.echo(type(cli_trace(ctx)).__name__)

    refused = CliRunner().invoke(probe, [], obj=app)
    assert isinstance(refused.exception, TypeError)
    accepted = CliRunner().invoke(probe, [], obj=trace_of(app))
    assert accepted.output.strip() == Trace.__name__
