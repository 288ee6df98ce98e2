"""The account commands of the console script."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlmodel import Session, SQLModel, select
from werkzeug.security import check_password_hash

from traceability import cli, create_app
from traceability.accounts import services as accounts
from traceability.accounts.models import ApiToken, OrgKind, User
from traceability.accounts.services import authenticate_password, authenticate_token, hash_token
from traceability.app import trace_of
from traceability.cli import main
from traceability.errors import Unauthorised

PASSWORD = "correct horse battery"


def invoke(app: Flask, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), obj=trace_of(app))
    return result.exit_code, result.output


def run(app: Flask, *args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(main, list(args), obj=trace_of(app), input=input)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def plant(app: Flask) -> Flask:
    """A Suzhou plant and a Jiangsu regulator."""
    with Session(trace_of(app).engine) as session:
        accounts.add_org(
            session=session,
            code="DIS-SZ",
            kind=OrgKind.dismantler,
            name="苏州某拆解厂",
            region="320500",
            license_no="SZ-001",
        )
        accounts.add_org(
            session=session,
            code="REG-JS",
            kind=OrgKind.regulator,
            name="江苏省生态环境厅",
            region="320000",
        )
        session.commit()
    return app


def new_token(app: Flask, username: str, *args: str) -> str:
    return run(app, "tokens", "create", username, *args).stdout.strip().splitlines()[-1]


def password_hash(app: Flask, username: str) -> str | None:
    with Session(trace_of(app).engine) as session:
        return session.exec(select(User.password_hash).where(User.username == username)).one()


def works(app: Flask, token: str) -> bool:
    with Session(trace_of(app).engine) as session:
        try:
            authenticate_token(session=session, token=token)
        except Unauthorised:
            return False
        return True


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
    with Session(trace_of(app).engine) as session:
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


def test_a_token_is_printed_with_its_expiry_on_stderr_and_alone_on_stdout(
    settings: dict[str, Any],
) -> None:
    app = create_app({**settings, "token_ttl_days": 90})
    SQLModel.metadata.create_all(trace_of(app).engine)
    run(app, "orgs", "add", "COL-SZ", "--kind", "collector", "--name", "c", "--region", "320500")
    run(app, "users", "add", "wang", "--org", "COL-SZ", "--role", "operator")

    result = run(app, "tokens", "create", "wang")

    [token] = result.stdout.split()
    expires = re.search(r"expires (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", result.stderr)
    assert expires, result.stderr
    in_90_days = dt.datetime.now(dt.UTC) + dt.timedelta(days=90)
    assert expires[1] in {f"{in_90_days - dt.timedelta(minutes=m):%Y-%m-%d %H:%M}" for m in (0, 1)}
    assert works(app, token)
    trace_of(app).engine.dispose()


def test_ttl_days_sets_the_token_lifetime(plant: Flask) -> None:
    run(plant, "users", "add", "wang", "--org", "DIS-SZ", "--role", "operator")

    token = new_token(plant, "wang", "--ttl-days", "7")

    with Session(trace_of(plant).engine) as session:
        row = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).one()
    assert row.expires_at - row.created_at == dt.timedelta(days=7)


def test_tokens_list_shows_ids_and_dates_but_never_a_secret(plant: Flask) -> None:
    run(plant, "users", "add", "wang", "--org", "DIS-SZ", "--role", "operator")
    token = new_token(plant, "wang", "--label", "scanner-7")

    out = run(plant, "tokens", "list", "wang").output

    assert "wang" in out and "scanner-7" in out and "active" in out
    assert token not in out
    assert token.removeprefix("trc_")[:8] not in out
    assert hash_token(token) not in out and hash_token(token)[:8] not in out


def test_tokens_revoke_by_id_stops_the_token(plant: Flask) -> None:
    run(plant, "users", "add", "wang", "--org", "DIS-SZ", "--role", "operator")
    token = new_token(plant, "wang")
    kept = new_token(plant, "wang")
    first_row = run(plant, "tokens", "list").output.splitlines()[1]
    token_id = first_row.split()[0]

    out = run(plant, "tokens", "revoke", token_id).output

    assert f"token {token_id} revoked" in out
    assert not works(plant, token)
    assert works(plant, kept)
    assert "revoked" in run(plant, "tokens", "list", "wang").output


def test_tokens_revoke_accepts_the_leaked_token_on_stdin(plant: Flask) -> None:
    run(plant, "users", "add", "wang", "--org", "DIS-SZ", "--role", "operator")
    token = new_token(plant, "wang")

    run(plant, "tokens", "revoke", "--token-stdin", input=token + "\n")

    assert not works(plant, token)


def test_tokens_revoke_of_an_unknown_id_fails(plant: Flask) -> None:
    code, out = invoke(plant, "tokens", "revoke", "4242")

    assert code != 0
    assert "4242" in out


def test_users_disable_stops_all_its_tokens_and_enable_restores_them(plant: Flask) -> None:
    run(plant, "users", "add", "wang", "--org", "DIS-SZ", "--role", "operator")
    tokens = [new_token(plant, "wang"), new_token(plant, "wang")]

    run(plant, "users", "disable", "wang")
    assert [works(plant, t) for t in tokens] == [False, False]

    run(plant, "users", "enable", "wang")
    assert [works(plant, t) for t in tokens] == [True, True]


def test_admin_of_a_plant_is_refused_naming_the_role(plant: Flask) -> None:
    code, out = invoke(plant, "users", "add", "boss", "--org", "DIS-SZ", "--role", "admin")

    assert code != 0
    assert "(role)" in out


def test_password_is_read_from_stdin_and_stored_hashed(plant: Flask) -> None:
    run(
        plant,
        "users",
        "add",
        "li",
        "--org",
        "REG-JS",
        "--role",
        "auditor",
        "--password-stdin",
        input=PASSWORD + "\n",
    )

    stored = password_hash(plant, "li")
    assert stored and stored != PASSWORD and check_password_hash(stored, PASSWORD)
    with Session(trace_of(plant).engine) as session:
        assert authenticate_password(session=session, username="li", password=PASSWORD)


def test_password_is_prompted_for_on_a_terminal_hidden_and_confirmed(
    plant: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_stdin_is_interactive", lambda: True)

    result = run(
        plant,
        "users",
        "add",
        "li",
        "--org",
        "REG-JS",
        "--role",
        "auditor",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )

    assert PASSWORD not in result.output  # not echoed
    stored = password_hash(plant, "li")
    assert stored and check_password_hash(stored, PASSWORD)


def test_password_on_the_command_line_works_but_warns(plant: Flask) -> None:
    result = run(
        plant, "users", "add", "li", "--org", "REG-JS", "--role", "auditor", "--password", PASSWORD
    )

    assert "shell history" in result.stderr
    stored = password_hash(plant, "li")
    assert stored and check_password_hash(stored, PASSWORD)


def test_without_a_terminal_or_password_the_user_is_token_only_and_told_so(
    plant: Flask,
) -> None:
    result = run(plant, "users", "add", "wang", "--org", "DIS-SZ", "--role", "operator")

    assert "token-only" in result.stderr
    assert password_hash(plant, "wang") is None


def test_no_password_makes_a_token_only_user_even_on_a_terminal(
    plant: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_stdin_is_interactive", lambda: True)

    run(plant, "users", "add", "wang", "--org", "DIS-SZ", "--role", "operator", "--no-password")

    assert password_hash(plant, "wang") is None


def test_only_one_way_of_giving_a_password_is_accepted(plant: Flask) -> None:
    code, out = invoke(
        plant,
        "users",
        "add",
        "li",
        "--org",
        "REG-JS",
        "--role",
        "auditor",
        "--password",
        PASSWORD,
        "--no-password",
    )

    assert code != 0
    assert "only one of" in out
    with Session(trace_of(plant).engine) as session:
        assert session.exec(select(User).where(User.username == "li")).first() is None
