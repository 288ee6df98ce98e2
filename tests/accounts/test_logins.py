"""Failed sign-ins slow the next attempts down; they never lock an account (issue 15, finding 6).

The clock is an argument: every attempt names its ``now``, nothing sleeps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlmodel import Session

from tests.support.accounts import PASSWORD, Actor
from traceability.accounts.logins import LoginPolicy, SignedIn, SignInDelayed, sign_in
from traceability.errors import Unauthorised

T0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
POLICY = LoginPolicy(
    free_failures=3,
    free_failures_per_address=10,
    base_delay=dt.timedelta(seconds=4),
    max_delay=dt.timedelta(seconds=60),
    window=dt.timedelta(hours=1),
)
ATTACKER, OFFICE = "203.0.113.66", "192.168.10.21"


@pytest.fixture
def operator(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("COL-SZ", "collector", password=PASSWORD)


def attempt(
    session: Session, username: str, password: str, address: str, now: dt.datetime
) -> SignedIn | str:
    """The signed-in session, or what refused it: "wrong" or "wait N"."""
    try:
        result = sign_in(
            session=session,
            username=username,
            password=password,
            address=address,
            policy=POLICY,
            session_ttl=dt.timedelta(hours=1),
            now=now,
        )
    except Unauthorised:
        session.commit()
        return "wrong"
    except SignInDelayed as exc:
        session.rollback()
        return f"wait {exc.retry_after}"
    session.commit()
    return result


def test_the_wait_doubles_with_each_failure_up_to_its_longest(
    session: Session, operator: Actor
) -> None:
    now = T0
    for _ in range(3):  # the free failures
        assert attempt(session, operator.username, "nope", ATTACKER, now) == "wrong"
    waits = []
    for _ in range(6):
        # A wrong password earns a wait; trying again too early is refused unseen.
        assert attempt(session, operator.username, "nope", ATTACKER, now).startswith("wait")
        wait = int(str(attempt(session, operator.username, PASSWORD, ATTACKER, now)).split()[1])
        waits.append(wait)
        almost = now + dt.timedelta(seconds=wait - 1)
        assert attempt(session, operator.username, PASSWORD, ATTACKER, almost) == "wait 1"
        now += dt.timedelta(seconds=wait)
        assert attempt(session, operator.username, "nope", ATTACKER, now) == "wrong"
    assert waits == [4, 8, 16, 32, 60, 60]


def test_the_users_right_password_from_an_address_that_has_not_failed_signs_in(
    session: Session, operator: Actor
) -> None:
    for n in range(50):
        attempt(session, operator.username, f"guess {n}", ATTACKER, T0 + dt.timedelta(seconds=n))
    late = T0 + dt.timedelta(seconds=50)
    assert attempt(session, operator.username, PASSWORD, ATTACKER, late).startswith("wait")
    assert isinstance(attempt(session, operator.username, PASSWORD, OFFICE, late), SignedIn)


def test_a_success_starts_that_pairs_count_afresh(session: Session, operator: Actor) -> None:
    now = T0
    for _ in range(4):
        attempt(session, operator.username, "nope", OFFICE, now)
    assert attempt(session, operator.username, PASSWORD, OFFICE, now) == "wait 4"
    now += dt.timedelta(seconds=4)
    assert isinstance(attempt(session, operator.username, PASSWORD, OFFICE, now), SignedIn)
    now += dt.timedelta(seconds=1)
    for _ in range(3):
        assert attempt(session, operator.username, "typo", OFFICE, now) == "wrong"
    assert attempt(session, operator.username, PASSWORD, OFFICE, now) == "wait 4"  # not 8


def test_failures_outside_the_window_no_longer_count(session: Session, operator: Actor) -> None:
    for _ in range(4):
        attempt(session, operator.username, "nope", OFFICE, T0)
    assert attempt(session, operator.username, PASSWORD, OFFICE, T0).startswith("wait")
    later = T0 + POLICY.window + dt.timedelta(seconds=1)
    assert isinstance(attempt(session, operator.username, PASSWORD, OFFICE, later), SignedIn)


def test_guessing_many_usernames_from_one_address_delays_every_name_from_it(
    session: Session, operator: Actor
) -> None:
    for n in range(10):
        assert attempt(session, f"user{n}", "123456", ATTACKER, T0) == "wrong"
    assert attempt(session, operator.username, PASSWORD, ATTACKER, T0) == "wait 4"
    # The address's count is not reset by someone signing in there.
    assert isinstance(attempt(session, operator.username, PASSWORD, OFFICE, T0), SignedIn)
    assert attempt(session, "user99", "123456", ATTACKER, T0) == "wait 4"


def test_the_exponent_is_bounded() -> None:
    assert POLICY.delay(10**9, 3) == POLICY.max_delay
    assert POLICY.delay(2, 3) == dt.timedelta(0)
