"""Administration pages (issue 20 item 7): a plant manager and a regulator admin add, disable
and re-role users, revoke tokens and mint label sheets in the browser, with the CLI's rules;
what they may not touch is a 403 and changes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from tests.support.accounts import PASSWORD, Actor
from tests.support.web import csrf_token, sign_in
from traceability.accounts.models import ApiToken, User
from traceability.app import trace_of
from traceability.labels.models import LabelSheet, MintedId

EN = {"Accept-Language": "en"}


def post(client: FlaskClient, path: str, **data: str) -> tuple[int, str]:
    """A form of the users page sent as the browser would (with the page's CSRF token)."""
    token = csrf_token(client.get("/portal/admin/users").get_data(as_text=True))
    response = client.post(path, data={**data, "csrf_token": token}, headers=EN)
    return response.status_code, response.get_data(as_text=True)


def token_works(client: FlaskClient, actor: Actor) -> bool:
    """Whether the API takes the actor's token (a claim that does not exist: 401 or not)."""
    return client.get("/api/v1/claims/999999", headers=actor.headers).status_code != 401


def user(app: Flask, username: str) -> User | None:
    with Session(trace_of(app).engine) as session:
        return session.exec(select(User).where(User.username == username)).first()


@pytest.fixture
def manager(client: FlaskClient, make_actor: Callable[..., Actor]) -> Actor:
    actor = make_actor("DIS-SZ", "dismantler", role="manager", password=PASSWORD)
    assert sign_in(client, actor.username, next_path="/portal/").status_code == 302
    return actor


def test_a_manager_adds_an_operator_who_can_then_sign_in(
    app: Flask, client: FlaskClient, manager: Actor
) -> None:
    status, _ = post(client, "/portal/admin/users", username="sz.line9", org="DIS-SZ",
                     role="operator", password="line-nine-pass")  # fmt: skip
    assert status == 302
    added = user(app, "sz.line9")
    assert added is not None and added.role == "operator" and added.is_active
    page = client.get("/portal/admin/users").get_data(as_text=True)
    assert 'data-user="sz.line9" data-active="yes"' in page
    client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert sign_in(client, "sz.line9", "line-nine-pass").status_code == 302


@pytest.mark.parametrize(
    ("form", "status", "words"),
    [
        ({"username": "Bad Name", "org": "DIS-SZ", "role": "operator", "password": "long-enough"},
         422, "lower-case letters"),
        ({"username": "sz.aud", "org": "DIS-SZ", "role": "auditor", "password": "long-enough"},
         422, "operators or managers"),
        ({"username": "sz.short", "org": "DIS-SZ", "role": "operator", "password": "short"},
         422, "at least 8 characters"),
        ({"username": "sz.other", "org": "DIS-WX", "role": "operator", "password": "long-enough"},
         403, "do not administer"),
    ],
)  # fmt: skip
def test_a_refused_user_is_the_page_again_with_its_reason_and_nothing_added(
    app: Flask, client: FlaskClient, manager: Actor, make_actor: Callable[..., Actor],
    form: dict[str, str], status: int, words: str,
) -> None:  # fmt: skip
    make_actor("DIS-WX", "dismantler")  # another plant
    got, html = post(client, "/portal/admin/users", **form)
    assert got == status and words in html and "data-problem" in html
    assert user(app, form["username"]) is None


def test_a_manager_disables_and_re_roles_their_users_but_not_themselves_or_others(
    app: Flask, client: FlaskClient, manager: Actor, make_actor: Callable[..., Actor]
) -> None:
    line = make_actor("DIS-SZ", "dismantler", role="operator")
    other = make_actor("DIS-WX", "dismantler", role="operator")
    assert token_works(client, line)
    assert post(client, f"/portal/admin/users/{line.username}/active", active="0")[0] == 302
    assert user(app, line.username).is_active is False  # type: ignore[union-attr]
    # The disabled user's token no longer works.
    assert not token_works(client, line)
    assert post(client, f"/portal/admin/users/{line.username}/role", role="manager")[0] == 302
    assert user(app, line.username).role == "manager"  # type: ignore[union-attr]
    # Not a regulator role in a plant.
    status, html = post(client, f"/portal/admin/users/{line.username}/role", role="admin")
    assert status == 422 and user(app, line.username).role == "manager"  # type: ignore[union-attr]
    # Not yourself, not another plant's user.
    status, html = post(client, f"/portal/admin/users/{manager.username}/active", active="0")
    assert status == 422 and "yourself" in html
    assert user(app, manager.username).is_active  # type: ignore[union-attr]
    assert post(client, f"/portal/admin/users/{other.username}/active", active="0")[0] == 403
    assert user(app, other.username).is_active  # type: ignore[union-attr]


def test_tokens_are_listed_and_revoked_only_for_the_users_one_administers(
    app: Flask, client: FlaskClient, manager: Actor, make_actor: Callable[..., Actor]
) -> None:
    line = make_actor("DIS-SZ", "dismantler", role="operator")
    other = make_actor("DIS-WX", "dismantler", role="operator")
    with Session(trace_of(app).engine) as session:
        ids = {
            u.username: t.id
            for t, u in session.exec(
                select(ApiToken, User).join(User, ApiToken.user_id == User.id)  # type: ignore[arg-type]
            )
        }
    page = client.get("/portal/admin/users").get_data(as_text=True)
    assert f'data-token="{ids[line.username]}"' in page
    assert f'data-token="{ids[other.username]}"' not in page
    assert post(client, f"/portal/admin/tokens/{ids[line.username]}/revoke")[0] == 302
    assert not token_works(client, line)
    assert post(client, f"/portal/admin/tokens/{ids[other.username]}/revoke")[0] == 403
    assert token_works(client, other)


def test_a_regulator_admin_administers_the_plants_of_its_region_only(
    app: Flask, client: FlaskClient, make_actor: Callable[..., Actor]
) -> None:
    make_actor("DIS-SZ", "dismantler")  # region 320500
    make_actor("DIS-HF", "dismantler", region="340100")
    admin = make_actor("REG-JS", "regulator", role="admin", region="320000", password=PASSWORD)
    assert sign_in(client, admin.username).status_code == 302
    ok = post(client, "/portal/admin/users", username="sz.boss", org="DIS-SZ", role="manager",
              password="long-enough")  # fmt: skip
    assert ok[0] == 302 and user(app, "sz.boss").role == "manager"  # type: ignore[union-attr]
    refused = post(client, "/portal/admin/users", username="hf.boss", org="DIS-HF",
                   role="manager", password="long-enough")  # fmt: skip
    assert refused[0] == 403 and user(app, "hf.boss") is None


def test_an_auditor_or_an_operator_has_no_administration(
    client: FlaskClient, make_actor: Callable[..., Actor]
) -> None:
    auditor = make_actor("REG-JS", "regulator", role="auditor", region="320000",
                         password=PASSWORD)  # fmt: skip
    assert sign_in(client, auditor.username).status_code == 302
    assert client.get("/portal/admin/users").status_code == 403
    assert 'data-nav="admin"' not in client.get("/portal/").get_data(as_text=True)


def test_a_manager_mints_a_label_sheet_and_prints_it(
    app: Flask, client: FlaskClient, manager: Actor
) -> None:
    token = csrf_token(client.get("/portal/admin/labels").get_data(as_text=True))
    bad = client.post("/portal/admin/labels", data={"count": "0", "csrf_token": token}, headers=EN)
    assert bad.status_code == 422 and "1 to 1000" in bad.get_data(as_text=True)
    made = client.post("/portal/admin/labels", data={"count": "12", "csrf_token": token})
    assert made.status_code == 302
    with Session(trace_of(app).engine) as session:
        [sheet] = session.exec(select(LabelSheet)).all()
        minted = session.exec(select(MintedId).where(MintedId.sheet_id == sheet.id)).all()
    assert sheet.count == 12 == len(minted) and sheet.org == "DIS-SZ"
    page = client.get("/portal/admin/labels").get_data(as_text=True)
    assert f'data-sheet="{sheet.id}"' in page
    pdf = client.get(f"/api/v1/labels/{sheet.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
