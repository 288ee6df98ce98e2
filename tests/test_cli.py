"""The account commands of the console script."""

from __future__ import annotations

from click.testing import CliRunner
from flask import Flask
from sqlmodel import Session

from traceability.accounts.services import authenticate_token
from traceability.cli import main
from traceability.db import Database


def invoke(app: Flask, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), obj=app)
    return result.exit_code, result.output


def test_orgs_users_tokens_give_a_working_token(app: Flask) -> None:
    code, out = invoke(
        app,
        "orgs",
        "add",
        "DIS-BJ",
        "--kind",
        "dismantler",
        "--name",
        "北京某拆解厂",
        "--region",
        "110000",
        "--license",
        "BJ-001",
        "--capacity",
        "500000",
    )
    assert code == 0, out
    code, out = invoke(app, "users", "add", "wang", "--org", "DIS-BJ", "--role", "operator")
    assert code == 0, out
    code, out = invoke(app, "tokens", "create", "wang")
    assert code == 0, out
    token = out.strip().splitlines()[-1]
    with Session(Database.engine(app)) as session:
        principal = authenticate_token(session=session, token=token)
    assert (principal.username, principal.org_code, principal.role) == (
        "wang",
        "DIS-BJ",
        "operator",
    )


def test_bad_region_is_refused_naming_the_field(app: Flask) -> None:
    code, out = invoke(
        app, "orgs", "add", "COL-X", "--kind", "collector", "--name", "x", "--region", "12345"
    )
    assert code != 0
    assert "region" in out


def test_user_for_unknown_org_is_refused(app: Flask) -> None:
    code, out = invoke(app, "users", "add", "li", "--org", "NOPE", "--role", "operator")
    assert code != 0
    assert "NOPE" in out
