"""The account services: roles per organisation kind, token expiry, revocation, disabling."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields

import pytest
from sqlmodel import Session

from traceability.accounts import services as accounts
from traceability.accounts.models import OrgKind, Role
from traceability.errors import NotFound, Unauthorised, ValidationFailed

UTC = dt.UTC
T0 = dt.datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def orgs(session: Session) -> None:
    accounts.add_org(session=session, code="REG-JS", kind="regulator", name="JS", region="320000")
    accounts.add_org(
        session=session,
        code="DIS-SZ",
        kind="dismantler",
        name="SZ",
        region="320500",
        license_no="L",
    )
    accounts.add_org(session=session, code="COL-SZ", kind="collector", name="C", region="320500")
    accounts.add_org(session=session, code="PRO-SZ", kind="processor", name="P", region="320500")


@pytest.fixture
def wang(session: Session, orgs: None) -> str:
    accounts.add_user(session=session, username="wang", org_code="DIS-SZ", role="operator")
    return "wang"


def principal(role: Role, kind: OrgKind, region: str) -> accounts.Principal:
    return accounts.Principal(
        user_id=1,
        username="x",
        role=role,
        org_id=1,
        org_code="X",
        org_kind=kind,
        org_region=region,
    )


@pytest.mark.parametrize("org", ["DIS-SZ", "COL-SZ", "PRO-SZ"])
def test_admin_outside_a_regulator_is_refused_naming_role(
    session: Session, orgs: None, org: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        accounts.add_user(session=session, username="boss", org_code=org, role="admin")

    assert exc.value.field == "role"
    assert "regulator" in exc.value.message


def test_admin_of_a_regulator_is_accepted(session: Session, orgs: None) -> None:
    user = accounts.add_user(session=session, username="root", org_code="REG-JS", role="admin")

    assert user.role == Role.admin


@pytest.mark.parametrize(
    ("role", "kind", "region", "readable"),
    [
        (Role.admin, OrgKind.regulator, "320500", True),  # Jiangsu covers Suzhou
        (Role.admin, OrgKind.regulator, "110000", False),  # Beijing does not
        (Role.auditor, OrgKind.regulator, "320500", True),
        (Role.auditor, OrgKind.regulator, "110105", False),
        (Role.operator, OrgKind.dismantler, "320500", False),
        (Role.manager, OrgKind.dismantler, "320500", False),
    ],
)
def test_can_read_region_is_a_regulators_region_scope(
    role: Role, kind: OrgKind, region: str, readable: bool
) -> None:
    assert accounts.can_read_region(principal(role, kind, "320000"), region) is readable


def test_a_city_regulator_reads_its_city_only() -> None:
    suzhou_admin = principal(Role.admin, OrgKind.regulator, "320500")

    assert accounts.can_read_region(suzhou_admin, "320506")
    assert not accounts.can_read_region(suzhou_admin, "320100")


def test_a_token_expires_after_its_ttl(session: Session, wang: str) -> None:
    issued = accounts.create_token(session=session, username=wang, ttl_days=30, now=T0)

    assert issued.expires_at == T0 + dt.timedelta(days=30)
    just_before = issued.expires_at - dt.timedelta(seconds=1)
    assert accounts.authenticate_token(session=session, token=issued.token, now=just_before)
    with pytest.raises(Unauthorised, match="expired on 2026-01-31"):
        accounts.authenticate_token(session=session, token=issued.token, now=issued.expires_at)


@pytest.mark.parametrize("ttl_days", [0, -1, accounts.MAX_TOKEN_TTL_DAYS + 1])
def test_a_token_lifetime_out_of_range_is_refused(
    session: Session, wang: str, ttl_days: int
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        accounts.create_token(session=session, username=wang, ttl_days=ttl_days)

    assert exc.value.field == "ttl_days"


def test_a_revoked_token_stops_working_and_keeps_its_first_revocation_date(
    session: Session, wang: str
) -> None:
    issued = accounts.create_token(session=session, username=wang, ttl_days=30)

    first = accounts.revoke_token_id(session=session, token_id=issued.id).revoked_at
    again = accounts.revoke_token_id(session=session, token_id=issued.id).revoked_at

    assert first is not None and again == first
    with pytest.raises(Unauthorised, match="revoked"):
        accounts.authenticate_token(session=session, token=issued.token)


def test_revoking_an_unknown_token_id_is_not_found(session: Session, wang: str) -> None:
    with pytest.raises(NotFound) as exc:
        accounts.revoke_token_id(session=session, token_id=999)

    assert exc.value.field == "token_id"


def test_disabling_a_user_stops_all_its_tokens_and_enabling_restores_them(
    session: Session, wang: str
) -> None:
    tokens = [accounts.create_token(session=session, username=wang, ttl_days=30) for _ in "ab"]

    accounts.disable_user(session=session, username=wang)
    for issued in tokens:
        with pytest.raises(Unauthorised, match="disabled"):
            accounts.authenticate_token(session=session, token=issued.token)

    accounts.enable_user(session=session, username=wang)
    for issued in tokens:
        assert accounts.authenticate_token(session=session, token=issued.token).username == wang


def test_a_disabled_user_gets_no_new_token(session: Session, wang: str) -> None:
    accounts.disable_user(session=session, username=wang)

    with pytest.raises(ValidationFailed) as exc:
        accounts.create_token(session=session, username=wang, ttl_days=30)

    assert exc.value.field == "username"


def test_listed_tokens_carry_no_secret(session: Session, wang: str) -> None:
    issued = accounts.create_token(session=session, username=wang, ttl_days=30, label="scanner 7")

    [info] = accounts.list_tokens(session=session, username=wang)

    assert (info.id, info.username, info.label) == (issued.id, wang, "scanner 7")
    assert info.expires_at == issued.expires_at
    values = {str(getattr(info, f.name)) for f in fields(info)}
    assert issued.token not in values
    assert accounts.hash_token(issued.token) not in values
    assert not {f.name for f in fields(info)} & {"token", "token_hash"}


def test_token_status_says_why_it_does_not_work(session: Session, wang: str) -> None:
    live = accounts.create_token(session=session, username=wang, ttl_days=30, now=T0)
    revoked = accounts.create_token(session=session, username=wang, ttl_days=30, now=T0)
    accounts.revoke_token_id(session=session, token_id=revoked.id)
    after_expiry = T0 + dt.timedelta(days=31)

    status = {
        t.id: (t.status(T0 + dt.timedelta(days=1)), t.status(after_expiry))
        for t in accounts.list_tokens(session=session)
    }

    assert status == {live.id: ("active", "expired"), revoked.id: ("revoked", "revoked")}
