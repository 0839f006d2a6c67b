"""The web layer shared by every page: language, CSRF, rate limits and security headers."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_babel import Babel, get_locale
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from traceability.config import PROJECT_ROOT

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
babel = Babel()

# No inline script or style anywhere, so the policy can forbid both; pages must work with no JavaScript.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def select_locale() -> str:
    """Pick the language: an explicit ?lang= or cookie, then Accept-Language, then Vietnamese."""
    from flask import current_app

    languages: tuple[str, ...] = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang") or request.cookies.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def _limit_upload() -> None:
    """Apply a view's own upload limit (a `max_content_length(config)` attribute) before any form is read."""
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "max_content_length", None)
    if limit is not None:
        request.max_content_length = limit(current_app.config)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.mimetype == "text/html":
        # The language follows Accept-Language or the cookie the switch sets: caches must keep them apart.
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
    return response


def _remember_language(response: Response) -> Response:
    chosen = request.args.get("lang")
    if chosen and chosen in ("vi", "en"):
        response.set_cookie("lang", chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def init_app(app: Flask) -> None:
    """Attach language selection, CSRF protection, the rate limiter and security headers."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(PROJECT_ROOT / "traceability" / "translations"))
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    app.before_request(_limit_upload)  # before CSRF, which reads the form
    csrf.init_app(app)
    limiter.init_app(app)
    app.after_request(_security_headers)
    app.after_request(_remember_language)
