"""A wrong username costs the same password hashing as a wrong password (issue 15 L11).

Measured by what runs, not by a clock: the hash check is made once per
attempt whether or not the username exists, is disabled or has no password.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session
from werkzeug.security import check_password_hash

from traceability.accounts import services as accounts
from traceability.errors import Unauthorised

PASSWORD = "correct horse battery staple"


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stored hashes the real ``check_password_hash`` was asked to check against."""
    seen: list[str] = []

    def counting(pwhash: str, password: str) -> bool:
        seen.append(pwhash)
        return check_password_hash(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    return seen


@pytest.fixture
def users(session: Session) -> None:
    accounts.add_org(session=session, code="COL-SZ", kind="collector", name="C", region="320500")
    for username, password in (("wang", PASSWORD), ("li", PASSWORD), ("zhao", None)):
        accounts.add_user(
            session=session, username=username, org_code="COL-SZ", role="operator",
            password=password,
        )  # fmt: skip
    accounts.disable_user(session=session, username="li")
    session.commit()


def _sign_in(session: Session, username: str, password: str) -> Callable[[], Any]:
    return lambda: accounts.authenticate_password(
        session=session, username=username, password=password
    )


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("wang", "wrong"),  # known user, wrong password: the baseline
        ("nobody", PASSWORD),  # unknown username
        ("li", PASSWORD),  # disabled user, right password
        ("zhao", PASSWORD),  # a user without a password (token only)
    ],
)
def test_every_refused_sign_in_checks_one_password_hash_of_the_same_scheme(
    session: Session, users: None, hashed: list[str], username: str, password: str
) -> None:
    with pytest.raises(Unauthorised, match="wrong username or password"):
        _sign_in(session, username, password)()

    [checked] = hashed
    real = accounts.get_user(session, "wang").password_hash
    assert real is not None
    assert checked.split("$")[0] == real.split("$")[0]  # the scheme and its cost


def test_the_right_password_still_signs_in(
    session: Session, users: None, hashed: list[str]
) -> None:
    principal = _sign_in(session, "wang", PASSWORD)()

    assert principal.username == "wang"
    assert len(hashed) == 1
