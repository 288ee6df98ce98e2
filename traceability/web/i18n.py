"""Languages of the HTML pages: Simplified Chinese and English (Flask-Babel).

The choice is remembered in a cookie; without one the browser's
Accept-Language decides, and Chinese — the working language of the plants —
when it names neither. The catalogue lives in ``translations/`` under
``zh_Hans_CN``: Babel parses ``zh_CN`` and ``zh-CN`` as ``zh_Hans_CN`` and
gettext looks for exactly that folder (or ``zh``), so a ``zh_CN`` folder
would silently fall back to English.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, current_app, redirect, request, url_for
from flask_babel import Babel, lazy_gettext
from werkzeug.wrappers import Response

from traceability.web.paths import safe_next, this_path

TRANSLATIONS = Path(__file__).with_name("translations")
COOKIE = "lang"
#: Language tag (what pages, cookies and the JS catalogues use) → Babel locale.
LANGUAGES = {"zh-CN": "zh_Hans_CN", "en": "en"}
DEFAULT = "zh-CN"
NAMES = {"zh-CN": "中文", "en": "English"}

#: Names people read for the roles and organisation kinds (the codes stay English).
ROLE_NAMES = {
    "operator": lazy_gettext("operator"),
    "manager": lazy_gettext("manager"),
    "auditor": lazy_gettext("auditor"),
    "admin": lazy_gettext("admin"),
}

bp = Blueprint("i18n", __name__)


def current_language() -> str:
    """The page's language tag: the remembered choice, else the browser's, else Chinese."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    if best is None:
        return DEFAULT
    return "en" if best == "en" else "zh-CN"


def _select_locale() -> str:
    return LANGUAGES[current_language()]


@bp.get("/lang/<tag>")
def switch(tag: str) -> Response:
    """Remember ``tag`` and go back to the page the switch was on."""
    target = safe_next(request.args.get("next")) or url_for("public.index")
    response = redirect(target)
    if tag in LANGUAGES:
        response.set_cookie(
            COOKIE,
            tag,
            max_age=365 * 24 * 3600,
            httponly=False,  # the handheld app reads it to pick its strings offline
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


def _template_globals() -> dict[str, object]:
    lang = current_language()
    other = "en" if lang == "zh-CN" else "zh-CN"
    here = this_path()
    return {
        "current_lang": lang,
        "other_lang": other,
        "other_lang_name": NAMES[other],
        "lang_switch_url": url_for("i18n.switch", tag=other, next=here),
        "role_names": ROLE_NAMES,
    }


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    Babel(app, locale_selector=_select_locale)
    app.context_processor(_template_globals)
    app.register_blueprint(bp)
