"""The web layer shared by every page: language, CSRF, rate limits and security headers."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import quote, urlencode

from flask import Flask, Response, g, request, url_for
from flask_babel import Babel, format_decimal, get_locale, get_translations
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from traceability import formatting, static_files
from traceability.config import PROJECT_ROOT


def client_key() -> str:
    """Return the rate-limit key of the client: its IPv4 address (a /32), or its IPv6 /64 network.

    One IPv6 subscriber holds a whole /64 (2**64 addresses; a host can take a new one per request), so
    counting each exact IPv6 address would never throttle anyone. An IPv4 address is one subscriber or one
    NAT: it keeps its own budget. An IPv4 address mapped into IPv6 counts as that IPv4 address.
    """
    address = request.remote_addr or ""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


csrf = CSRFProtect()
limiter = Limiter(key_func=client_key)
babel = Babel()

# No inline script or style anywhere, so the policy can forbid both; pages must work with no JavaScript.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


# Row ids are INTEGER columns: PostgreSQL refuses a larger value (a 500), SQLite overflows past 2**63.
ID_MAX = 2**31 - 1


class IdConverter(IntegerConverter):
    """A row id in a URL: ASCII digits, 1..2**31-1; anything else is 404 before any view or query runs."""

    regex = r"[0-9]+"  # werkzeug's \d+ also takes "１" (fullwidth) and reads it as 1

    def __init__(self, url_map: Map, fixed_digits: int = 0, min: int = 1, max: int = ID_MAX) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max)


def _page_translations() -> Any:
    """Return the catalog for the current locale, found once per locale in a request.

    Keyed on the locale object Flask-Babel caches, so `force_locale` or `refresh` still switch languages.
    """
    locale = get_locale()
    cached = g.get("page_translations")
    if cached is None or cached[0] is not locale:
        cached = g.page_translations = (locale, get_translations())
    return cached[1]


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


def number(value: int) -> str:
    """Group a count's digits as the page's language does: 100.000 in Vietnamese, 100,000 in English."""
    return str(format_decimal(value))


def _remember_language(response: Response) -> Response:
    chosen = request.args.get("lang")
    if chosen and chosen in ("vi", "en"):
        response.set_cookie("lang", chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def language_url(code: str) -> str:
    """Return this page in another language: the same path and query with only `lang` replaced.

    Built from the request's own path rather than url_for(**query): a query argument must never be
    able to choose url_for's own parameters (_external, _method, endpoint...).
    """
    if request.method != "GET":
        return url_for("verification.index", lang=code)
    query = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return quote(request.script_root + request.path) + "?" + urlencode([*query, ("lang", code)])


def init_app(app: Flask) -> None:
    """Attach proxy handling, id converters, language selection, CSRF protection, rate limits and headers."""
    # Before any blueprint adds its rules: `<id:...>` names a row; `<int:...>` gets the same bounds, so a
    # route written either way answers 404, never 500, to an id beyond what the database can hold.
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["int"] = IdConverter
    static_files.init_app(app)  # innermost: WhiteNoise answers /static/ before Flask or any proxy fix-up
    hops = app.config.get("PROXY_HOPS", 0)
    if hops:
        # Behind a reverse proxy the client's address and scheme arrive in X-Forwarded-*: rate limits,
        # device hashes and HSTS need them. Trust exactly as many hops as there are proxies.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(PROJECT_ROOT / "traceability" / "translations"))
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    babel.init_app(app, locale_selector=select_locale)
    # Templates look a message up ~50 times a page; Flask-Babel finds the catalog again for each one.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda text: _page_translations().ugettext(text),
        lambda singular, plural, n: _page_translations().ungettext(singular, plural, n),
        newstyle=True,
    )
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["language_url"] = language_url
    app.jinja_env.filters["number"] = number  # {{ batch.quantity|number }}
    formatting.init_app(app)  # {{ at|datetime }}, {{ day|date }}, {{ size|decimal }}, {{ seq|stamp }}
    app.before_request(_limit_upload)  # before CSRF, which reads the form
    csrf.init_app(app)
    limiter.init_app(app)
    app.after_request(_security_headers)
    app.after_request(_remember_language)
