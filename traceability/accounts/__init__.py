"""Organisations, users, roles and API tokens (SPEC §2.1).

``services`` creates them and authenticates a request's token or password
into a ``models.Principal`` (who acts, for which organisation, in which
role); every other service takes that principal. ``logins`` throttles failed
sign-ins. Example::

    from traceability.accounts.services import authenticate_token

    principal = authenticate_token(session=session, token=raw_token, now=now)
    principal.org_code, principal.role
"""

__all__ = [
    "logins",
    "models",
    "services",
]
