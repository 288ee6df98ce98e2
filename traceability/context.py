"""The deployment's context (STYLE §13): one frozen value, built once per process.

Settings, the catalogue, the database engine, the ledger and the clock are
what a service may need from the deployment. ``build_trace`` makes them from
the settings, the same way for the web app (``create_app``), the CLI, the
anchoring worker, the audit refresher and the claims helper process; each
service is then given the ``Trace`` (or the part it needs) as an argument,
never looks it up by name. The edges reach it through one typed accessor:
``traceability.app.current_trace()`` in a request, ``trace_of(app)`` given an
app, ``cli_trace(ctx)`` in a command.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import click
from pydantic import ValidationError
from sqlalchemy import Engine

from traceability.anchoring.connection import LedgerSource
from traceability.catalog import load_catalog
from traceability.catalog.files import CatalogDataError
from traceability.catalog.models import Catalog
from traceability.clock import SYSTEM_CLOCK, Clock
from traceability.config import ConfigurationError, Settings
from traceability.db import open_engine
from traceability.lots.manifests import load_formats


@dataclass(frozen=True)
class Trace:
    """What the deployment is: its settings and the services built from them.

    ``ledger`` opens the ledger's clients on first use and keeps them as long as
    this value (an in-process 'memory' chain lives that long).
    """

    settings: Settings
    catalog: Catalog
    engine: Engine
    ledger: LedgerSource
    clock: Clock
    #: The key sessions and audit seals are signed with (``Settings.resolved_secret_key``).
    secret_key: str

    def now(self) -> dt.datetime:
        """Now, in the time the deployment lives in (its clock)."""
        return self.clock.now()


def build_trace(settings: Settings | None = None, *, clock: Clock | None = None) -> Trace:
    """The deployment's context from ``settings`` (the ``TRACE_*`` variables by default);
    ``clock`` is the time it lives in (the machine's by default)."""
    settings = settings if settings is not None else Settings()
    load_formats()  # a malformed manifest-number file fails at start, naming file and key
    return Trace(
        settings=settings,
        catalog=load_catalog(settings.rate_files),
        engine=open_engine(settings.resolved_database_url, settings.database_busy_timeout_s),
        ledger=LedgerSource(settings),
        clock=clock or SYSTEM_CLOCK,
        secret_key=settings.resolved_secret_key(),
    )


def cli_trace(ctx: click.Context) -> Trace:
    """The command line's context: the root command's ``obj``, built from the ``TRACE_*``
    variables on first use when the caller gave none (a test passes its own)."""
    root = ctx.find_root()
    if root.obj is None:
        try:
            root.obj = build_trace()
        except (CatalogDataError, ConfigurationError) as exc:
            # a malformed data file or setting: which one, which key, never a traceback
            raise click.ClickException(str(exc)) from None
        except ValidationError as exc:  # a setting of the wrong type: never echo its value
            raise click.ClickException(settings_problem(exc)) from None
    if not isinstance(root.obj, Trace):
        raise TypeError(f"the command's obj must be a Trace, not {type(root.obj).__name__}")
    return root.obj


def settings_problem(error: ValidationError) -> str:
    """Each refused setting by its variable and why, without the value (it may be a key)."""
    return "; ".join(
        f"TRACE_{'_'.join(str(part) for part in e['loc']).upper()}: {e['msg']}"
        for e in error.errors()
    )
