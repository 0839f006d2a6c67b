"""The domain error family: each error carries its HTTP status, and one handler renders them all."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from flask import Flask, Response
    from flask.typing import ResponseReturnValue


class Term(str):
    """A parameter value that is itself a msgid (a state's name): translated along with the message."""

    __slots__ = ()


class DomainError(Exception):
    """Base of every error the service reports to a person; the message is meant to be read.

    `message` is an English catalog msgid (marked with `N_`) whose `%(name)s` placeholders are filled from
    `params`: `message` keeps the English text for logs, the CLI and tests, `localized()` the reader's language.
    """

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    # The page that shows the error to a person; its template gets `status`, `error` (the JSON body) and
    # page_context(). An error that needs its own page (LoginRequired: a link to log in) names it here.
    page: ClassVar[str] = "error.html"

    def __init__(self, message: str, *, params: Mapping[str, Any] | None = None, **details: Any) -> None:
        self.template = message
        self.params = dict(params or {})
        self.message = _fill(message, self.params)
        super().__init__(self.message)
        self.details = details

    def localized(self) -> str:
        """Return the message in the request's language, or in English outside a request."""
        from flask import has_request_context

        if not has_request_context():
            return self.message
        from flask_babel import gettext

        try:
            params = {k: gettext(v) if isinstance(v, Term) else v for k, v in self.params.items()}
            return str(gettext(self.template, **params))
        except (KeyError, ValueError, TypeError):
            return self.message

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON body for this error."""
        return {"error": self.code, "message": self.localized(), **self.details}

    def page_context(self) -> dict[str, Any]:
        """Return what the error's page needs besides its status and JSON body (called inside the request)."""
        return {}


# A stored message (a print job's failure) is kept as its msgid and params, so each reader gets it in their
# language; at most this many characters, else the English text is kept instead.
STORED_MAX = 2000


def stored(error: DomainError) -> str:
    """Return an error to keep in the database: JSON of its msgid, params and which params are Terms."""
    kept = json.dumps(
        {
            "msgid": error.template,
            "params": {k: v if isinstance(v, int | float | str) else str(v) for k, v in error.params.items()},
            "terms": sorted(k for k, v in error.params.items() if isinstance(v, Term)),
        },
        ensure_ascii=False,
    )
    return kept if len(kept) <= STORED_MAX else error.message[:STORED_MAX]


def read_stored(text: str | None) -> str | None:
    """Return a message kept by stored() in the reader's language (plain text, e.g. older rows, as it is)."""
    if not text or not text.startswith('{"msgid"'):
        return text
    try:
        kept = json.loads(text)
        params = {k: Term(v) if k in kept.get("terms", ()) else v for k, v in dict(kept["params"]).items()}
        return DomainError(str(kept["msgid"]), params=params).localized()
    except (ValueError, KeyError, TypeError):
        return text


def _fill(template: str, params: Mapping[str, Any]) -> str:
    """Return the template with its placeholders filled (as is when it has none, like gettext)."""
    if not params:
        return template
    try:
        return template % params
    except (KeyError, ValueError, TypeError):
        return template


class ConfigurationError(DomainError):
    """Settings that would make the service unsafe or broken."""

    status = 500
    code = "configuration"


class ValidationError(DomainError):
    """Input that breaks a rule; `field` names the offending input where there is one."""

    status = 422
    code = "invalid"

    def __init__(
        self, message: str, field: str | None = None, *, params: Mapping[str, Any] | None = None, **details: Any
    ) -> None:
        super().__init__(message, params=params, **({"field": field} if field else {}), **details)
        self.field = field


class NotFound(DomainError):
    """A record that does not exist, or that the caller may not see (never say which)."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    """The request clashes with the current state (duplicate code, wrong batch state...)."""

    status = 409
    code = "conflict"


def init_app(app: Flask) -> None:
    """Render domain errors and HTTP errors as JSON for API clients and HTML for people: the one error handler."""
    from flask import jsonify, render_template, request
    from werkzeug.exceptions import HTTPException

    from traceability.db import rollback_request_session

    def wants_json() -> bool:
        if request.path.startswith("/api/") or request.path.startswith("/.well-known/"):
            return True
        best = request.accept_mimetypes.best_match(["text/html", "application/json"])
        return best == "application/json"

    def render(
        status: int, body: dict[str, Any], page: str = "error.html", context: Mapping[str, Any] | None = None
    ) -> tuple[Response | str, int]:
        if wants_json():
            return jsonify(body), status
        return render_template(page, status=status, error=body, **(context or {})), status

    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError) -> ResponseReturnValue:
        rollback_request_session()
        if error.status >= 500:
            # Server-side faults (a missing key file, a broken setting) name paths and settings that
            # are for the operator's log, not for the person at the browser.
            app.logger.error("%s: %s", error.code, error.message)
            return render(error.status, {"error": error.code, "message": "Something went wrong on our side."})
        return render(error.status, error.to_dict(), error.page, error.page_context())

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException) -> ResponseReturnValue:
        status = error.code or 500
        body, status = render(status, {"error": error.name.lower().replace(" ", "_"), "message": error.description})
        # The exception's own headers belong to the answer: Allow on a 405 (RFC 9110 15.5.6),
        # WWW-Authenticate on a 401, Retry-After on a 429. Its Content-Type is for its own HTML body.
        headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
        return body, status, headers

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> ResponseReturnValue:
        rollback_request_session()
        app.logger.exception("unhandled error", exc_info=error)
        return render(500, {"error": "internal", "message": "Something went wrong on our side."})
