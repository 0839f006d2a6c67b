"""Logging: one line per record on stderr (JSON in production), each carrying the id of its request."""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler

from traceability.errors import ConfigurationError

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's or client's id is kept only if it is a short plain token: anything else could forge log lines.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
FORMATS = ("json", "text")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
HANDLER_NAME = "traceability-stderr"
# Attributes every LogRecord has; anything else on a record came from `extra=` and goes into the JSON line.
STANDARD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}
# The development server writes '127.0.0.1 - - [date] "GET / HTTP/1.1" 200 -': the address goes (README: no
# IP address is stored, and a log is a store).
WERKZEUG_ADDRESS = re.compile(r"^\S+ - - ")


def request_id() -> str | None:
    """Return the id of the current request, or None outside a request."""
    if not has_request_context():
        return None
    value = g.get("request_id")
    return value if isinstance(value, str) else None


def _choose_request_id() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def _echo_request_id(response: Response) -> Response:
    chosen = request_id()
    if chosen:
        response.headers[REQUEST_ID_HEADER] = chosen
    return response


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message, request id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a single line of JSON."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        chosen = getattr(record, "request_id", None)
        if chosen:
            line["request_id"] = chosen
        line.update({k: v for k, v in record.__dict__.items() if k not in STANDARD_ATTRIBUTES})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler[TextIO]):
    """Write to whatever sys.stderr is when a record comes (test runners and servers replace it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.set_name(HANDLER_NAME)

    def emit(self, record: logging.LogRecord) -> None:
        """Write the record to the current sys.stderr."""
        self.stream = sys.stderr
        super().emit(record)


def formatter(log_format: str) -> logging.Formatter:
    """Return the formatter for LOG_FORMAT."""
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT, defaults={"request_id": "-"})


def access_fields(atoms: Mapping[str, Any]) -> dict[str, Any]:
    """Return what an access-log line keeps of gunicorn's atoms: never the address, user agent or query.

    The query string of `/api/v1/verify?code=` is a whole stamp token, and the address and user agent would
    identify a shopper: the README promises that no IP address is stored.
    """
    return {
        "method": atoms.get("m"),
        "path": atoms.get("U"),
        "status": int(atoms["s"]) if str(atoms.get("s", "")).isdigit() else atoms.get("s"),
        "bytes": atoms.get("B"),
        "duration_ms": round(float(atoms.get("D") or 0) / 1000, 3),
        "protocol": atoms.get("H"),
        "request_id": atoms.get("{x-request-id}o"),
    }


def _install_record_factory() -> None:
    """Give every record made in a request its request_id, whichever logger made it."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_request_id", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        chosen = request_id()
        if chosen:
            record.request_id = chosen
        return record

    factory.adds_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def _drop_address(record: logging.LogRecord) -> bool:
    if isinstance(record.msg, str):
        record.msg = WERKZEUG_ADDRESS.sub("", record.msg)
    return True


def _check(config: Mapping[str, Any]) -> tuple[str, str]:
    log_format, level = str(config["LOG_FORMAT"]).lower(), str(config["LOG_LEVEL"]).upper()
    if log_format not in FORMATS:
        raise ConfigurationError(
            "LOG_FORMAT must be json or text, got %(value)r", params={"value": config["LOG_FORMAT"]}
        )
    if level not in LEVELS:
        raise ConfigurationError(
            "LOG_LEVEL must be one of %(levels)s, got %(value)r",
            params={"levels": ", ".join(LEVELS), "value": config["LOG_LEVEL"]},
        )
    return log_format, level


def init_app(app: Flask) -> None:
    """Log to stderr in LOG_FORMAT, the service at LOG_LEVEL, and give each request an id echoed in X-Request-ID."""
    log_format, level = _check(app.config)
    _install_record_factory()
    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.get_name() == HANDLER_NAME), None)
    if handler is None:
        handler = StderrHandler()
        root.addHandler(handler)
    handler.setFormatter(formatter(log_format))
    # LOG_LEVEL is this service's: libraries keep the root's WARNING, so a command's output is not buried in
    # their INFO lines (Alembic announces each plugin it sets up).
    logging.getLogger(app.import_name).setLevel(level)
    app.logger.removeHandler(default_handler)  # the root's handler writes the app's records once
    werkzeug = logging.getLogger("werkzeug")
    if _drop_address not in werkzeug.filters:
        werkzeug.addFilter(_drop_address)
    app.before_request(_choose_request_id)
    app.after_request(_echo_request_id)
