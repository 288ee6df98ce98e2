"""Browser sign-in shared by /scan and /portal: Flask-Login sessions, CSRF, delayed retries.

API clients keep their bearer tokens; a browser signs in here with the same
accounts and then calls the API with its session cookie and the CSRF token
(``X-CSRFToken``, read from ``<meta name="csrf-token">``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from traceability.accounts.logins import (
    LoginPolicy,
    SignInDelayed,
    load_session,
    revoke_session,
    sign_in,
    sign_out,
)
from traceability.accounts.models import OrgKind, Principal
from traceability.app import current_trace, get_session, trace_of
from traceability.db import begin_write
from traceability.errors import Unauthorised
from traceability.web.paths import safe_next, this_path

#: The Flask session's note of the session a PIN switch came from (its token's hash).
PIN_ORIGIN = "pin_origin"

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("auth", __name__, template_folder="templates")

#: Where a user lands after signing in without a ``next``: the first page that exists.
LANDING: dict[str, tuple[str, ...]] = {
    OrgKind.regulator: ("portal.index", "public.index"),
}
DEFAULT_LANDING = ("scanner.index", "portal.index", "public.index")


class BrowserUser(UserMixin):
    """Flask-Login's user: the principal, and the session secret its cookie carries."""

    def __init__(self, principal: Principal, token: str) -> None:
        self.principal = principal
        self.token = token

    def get_id(self) -> str:
        return self.token


class LoginForm(FlaskForm):
    username = StringField(validators=[InputRequired(), Length(max=64)])
    password = PasswordField(validators=[InputRequired(), Length(max=256)])


def current_browser_principal() -> Principal | None:
    """Who is signed in to this browser, or None (never raises)."""
    principal: Principal | None = getattr(current_user, "principal", None)
    return principal


def browser_login_required(
    *, kinds: Collection[str] | None = None, roles: Collection[str] | None = None
) -> Callable[[F], F]:
    """The page needs a signed-in user of one of ``kinds`` (organisation) and ``roles``.

    Anonymous users are sent to /login (and back here afterwards); a user
    whose organisation kind or role has no access gets the 403 page.
    The principal is in ``g.principal`` for the view.
    """

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_browser_principal()
            if principal is None:
                return redirect(url_for("auth.login", next=this_path()))
            if (kinds is not None and principal.org_kind not in kinds) or (
                roles is not None and principal.role not in roles
            ):
                return forbidden()
            g.principal = principal
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def forbidden() -> tuple[str, int]:
    return render_template("403.html"), 403


def _landing(principal: Principal) -> str:
    for endpoint in LANDING.get(principal.org_kind, DEFAULT_LANDING):
        if endpoint in current_app.view_functions:
            return url_for(endpoint)
    return "/"


def login_policy() -> LoginPolicy:
    settings = current_trace().settings
    return LoginPolicy(
        free_failures=settings.login_free_failures,
        free_failures_per_address=settings.login_free_failures_per_address,
        base_delay=dt.timedelta(seconds=settings.login_delay_s),
        max_delay=dt.timedelta(seconds=settings.login_max_delay_s),
        window=dt.timedelta(seconds=settings.login_window_s),
    )


def _page(form: LoginForm, next_path: str | None, error: str | None = None) -> str:
    return render_template("login.html", form=form, error=error, next=next_path)


def _delayed_message(exc: SignInDelayed) -> str:
    """What a person who must wait reads: the whole seconds to wait."""
    if exc.scope == "account":
        return _(
            "Too many failed sign-ins for this account from this device. Try again in %(n)d s.",
            n=exc.retry_after,
        )
    return _("Too many failed sign-ins from this device. Try again in %(n)d s.", n=exc.retry_after)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    next_path = safe_next(request.args.get("next"))
    if request.method == "GET":
        if current_browser_principal() is not None and next_path:
            return redirect(next_path)
        return _page(form, next_path)
    if not form.validate():
        return _page(form, next_path, _("Enter your username and password.")), 400
    db = get_session()
    begin_write(db)
    try:
        signed_in = sign_in(
            session=db,
            username=form.username.data,
            password=form.password.data,
            address=request.remote_addr or "unknown",
            policy=login_policy(),
            session_ttl=dt.timedelta(hours=current_trace().settings.session_hours),
        )
    except SignInDelayed as exc:
        db.rollback()  # an attempt while delayed is not looked at, nor counted
        message = _delayed_message(exc)
        return _page(form, next_path, message), 429, {"Retry-After": str(exc.retry_after)}
    except Unauthorised:
        db.commit()  # the failure counts toward the delays
        return _page(form, next_path, _("Wrong username or password.")), 401
    db.commit()
    session.clear()  # nothing from before the sign-in survives it (no fixation)
    session.permanent = True
    login_user(BrowserUser(signed_in.principal, signed_in.token))
    return redirect(next_path or _landing(signed_in.principal))


@bp.post("/logout")
def logout() -> Response:
    token = getattr(current_user, "token", None)
    if token is not None:
        db = get_session()
        begin_write(db)
        sign_out(session=db, token=token)
        if origin := session.get(PIN_ORIGIN):  # reached by PIN: the PIN's session ends too
            revoke_session(session=db, token_hash=str(origin))
        db.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


def _load_user(token: str) -> BrowserUser | None:
    principal = load_session(session=get_session(), token=token)
    return None if principal is None else BrowserUser(principal, token)


def _csrf_refused(exc: CSRFError) -> tuple[str, int]:
    return render_template("csrf.html", reason=exc.description), 400


def init_app(app: Flask) -> None:
    settings = trace_of(app).settings
    secure = settings.public_url.startswith("https://")
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings.session_hours),
        # A page stays open for a whole shift: the token lives as long as the session.
        WTF_CSRF_TIME_LIMIT=None,
    )
    if settings.proxy_hops:
        # Behind the plant's TLS proxy: the client's address (for the attempt
        # limits) and https come from the proxy's X-Forwarded-* headers.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops
        )
    manager = LoginManager(app)
    manager.session_protection = "basic"
    manager.user_loader(_load_user)
    manager.unauthorized_handler(lambda: redirect(url_for("auth.login", next=this_path())))
    csrf = CSRFProtect(app)
    # Bearer-token API calls carry no cookie to forge; the API checks the
    # token itself when a browser calls it with its session (api.auth).
    csrf.exempt(app.blueprints["api"])
    app.register_error_handler(CSRFError, _csrf_refused)
    app.context_processor(lambda: {"signed_in": current_browser_principal()})
    app.register_blueprint(bp)


__all__ = [
    "BrowserUser",
    "browser_login_required",
    "current_browser_principal",
    "forbidden",
    "init_app",
    "safe_next",
]
