"""Account administration from the browser (issue 20 item 7): users, tokens, with the CLI's
rules (``accounts.services``) and an authority the CLI's operator does not need.

Who administers whom:

- a plant's (or collector's, or processor's) **manager**: the users of their own
  organisation, as operators or managers;
- a regulator's **admin**: the users of their own regulator and of every
  organisation in their region (as the register's events place it), each in a
  role its kind allows (``add_user``'s rules);
- nobody disables themselves or changes their own role: an administrator
  locked out by a slip would need the server's operator.

Each change is its own transaction, committed here; a refused one writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from traceability.accounts.models import ApiToken, Organisation, OrgKind, Principal, Role, User
from traceability.accounts.services import (
    REGULATOR_ROLES,
    TokenInfo,
    add_user,
    get_user,
    list_tokens,
    revoke_token_id,
)
from traceability.errors import Forbidden, ValidationFailed
from traceability.register.scope import readable_orgs

ADMINISTRATORS = (Role.manager, Role.admin)


class OwnAccount(ValidationFailed):
    """An administrator tried to disable themselves or change their own role."""


@dataclass(frozen=True)
class Account:
    username: str
    org: str
    role: str
    active: bool
    has_password: bool


def manageable_orgs(session: Session, principal: Principal) -> frozenset[str]:
    """The organisations whose users ``principal`` administers."""
    if principal.role == Role.admin:
        return readable_orgs(session, principal) | {principal.org_code}
    if principal.role == Role.manager:
        return frozenset({principal.org_code})
    raise Forbidden("only managers and regulator admins administer accounts", field="role")


def _org_code(session: Session, user: User) -> str:
    org = session.get(Organisation, user.org_id)
    assert org is not None
    return org.code


def _managed(session: Session, principal: Principal, username: str) -> User:
    user = get_user(session, username)
    if _org_code(session, user) not in manageable_orgs(session, principal):
        raise Forbidden(f"{username} is not a user you administer", field="username")
    if user.username == principal.username:
        raise OwnAccount("you cannot change your own account here", field="username")
    return user


def accounts(session: Session, principal: Principal) -> list[Account]:
    """The users ``principal`` administers, by organisation and name."""
    orgs = manageable_orgs(session, principal)
    rows = session.exec(
        select(User, Organisation)
        .join(Organisation, col(User.org_id) == col(Organisation.id))
        .where(col(Organisation.code).in_(orgs))
        .order_by(col(Organisation.code), col(User.username))
    ).all()
    return [
        Account(u.username, o.code, u.role, u.is_active, u.password_hash is not None)
        for u, o in rows
    ]


def add_account(
    session: Session, principal: Principal, *, username: str, org_code: str, role: str,
    password: str,
) -> User:  # fmt: skip
    """A new user of an organisation ``principal`` administers; the browser's users sign in
    with a password, so one is required."""
    if org_code not in manageable_orgs(session, principal):
        raise Forbidden(f"{org_code} is not an organisation you administer", field="org")
    if not password:
        raise ValidationFailed("a password is required", field="password")
    user = add_user(
        session=session, username=username, org_code=org_code, role=role, password=password
    )
    session.commit()
    return user


def set_role(session: Session, principal: Principal, username: str, role: str) -> User:
    """Give a user another role its organisation's kind allows (``add_user``'s rules)."""
    user = _managed(session, principal, username)
    if role not in Role.__members__:
        raise ValidationFailed(f"role must be one of {', '.join(Role)}", field="role")
    org = session.get(Organisation, user.org_id)
    assert org is not None
    if (role in REGULATOR_ROLES) != (org.kind == OrgKind.regulator):
        raise ValidationFailed(
            "a regulator's users are auditors or admins; other organisations' are operators "
            "or managers",
            field="role",
        )
    user.role = role
    session.add(user)
    session.commit()
    return user


def set_active(session: Session, principal: Principal, username: str, *, active: bool) -> User:
    """Disable a user (no sign-in, no token works) or enable them again."""
    user = _managed(session, principal, username)
    user.is_active = active
    session.add(user)
    session.commit()
    return user


def tokens(session: Session, principal: Principal) -> list[TokenInfo]:
    """The API tokens of the users ``principal`` administers, oldest first."""
    mine = {a.username for a in accounts(session, principal)}
    return [t for t in list_tokens(session=session) if t.username in mine]


def revoke(session: Session, principal: Principal, token_id: int) -> ApiToken:
    """Revoke a token of a user ``principal`` administers (its own included)."""
    row = session.get(ApiToken, token_id)
    user = session.get(User, row.user_id) if row is not None else None
    if user is None or _org_code(session, user) not in manageable_orgs(session, principal):
        raise Forbidden(f"token {token_id} is not one you administer", field="token_id")
    revoked = revoke_token_id(session=session, token_id=token_id)
    session.commit()
    return revoked
