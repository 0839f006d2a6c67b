"""gunicorn settings for the OCOP stamp service: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Read from the environment (the systemd unit's EnvironmentFile, see deploy/ocop.env.example):
  GUNICORN_BIND       where to listen, comma-separated (default 127.0.0.1:8000, behind the reverse proxy;
                      `unix:/run/ocop/web.sock` for a socket)
  WEB_CONCURRENCY     worker processes (default 2 x cores + 1)
  GUNICORN_THREADS    threads per worker (default 1: sync workers; more: gthread workers)
  GUNICORN_TIMEOUT    seconds a worker may spend on one request before it is killed (default 30)
  LOG_FORMAT          `json` (production) or `text`: gunicorn's own lines follow the app's
  LOG_LEVEL           gunicorn's error-log level, as the app's (default INFO)
Every other setting is the app's, read by traceability/config.py from the same environment.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from gunicorn.glogging import Logger

from traceability.logs import JsonFormatter, access_fields


def _positive(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1, got {text!r}")
    return int(text)


_JSON = os.environ.get("LOG_FORMAT", "text").strip().lower() == "json"

# wsgi.py sits at the repository root, one folder up from this file, whatever folder gunicorn starts in.
chdir = str(Path(__file__).resolve().parent.parent)
wsgi_app = "wsgi:app"
bind = [address.strip() for address in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",") if address]

# Sync workers: verification is short CPU and database work, and the reverse proxy buffers slow clients, so
# one request per process at a time is the simplest model that keeps both cores busy; 2 x cores + 1 lets
# one process compute while another waits on PostgreSQL.
# GUNICORN_THREADS above 1 gives each process that many threads (gthread), to compare under load.
threads = _positive("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
workers = _positive("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1)
timeout = _positive("GUNICORN_TIMEOUT", 30)
# After SIGTERM (systemctl stop, a deploy), requests in flight get this long to finish; the unit's
# TimeoutStopSec is longer, so systemd never kills a worker that is still answering.
graceful_timeout = 30

# Off: create_app() opens a database engine (a connection pool) and a print-job runner. Built before the
# fork, every worker would inherit the same pooled sockets and the runner's dead threads; built in each
# worker, nothing is shared. The cost is a second or so per worker at start, and `systemctl reload` (HUP)
# then loads new code too.
preload_app = False

# The app trusts exactly PROXY_HOPS proxies for X-Forwarded-For/-Proto (werkzeug's ProxyFix); gunicorn
# trusting them as well would be a second rule configured elsewhere, so gunicorn trusts none.
forwarded_allow_ips = ""
# gunicorn 25.1+ opens a control socket under $HOME by default: systemctl is our control, and several
# instances on one machine (tests, benchmarks) would fight over the one path.
control_socket_disable = True

proc_name = "ocop-web"
loglevel = os.environ.get("LOG_LEVEL", "info").strip().lower()
errorlog = "-"  # stderr
accesslog = "-"  # moved to stderr too, by the logger below
# The text form of the access line. Deliberately without %(h)s (the client's address), %(a)s (its user
# agent), %(f)s (the referrer) and %(q)s (the query, which for /api/v1/verify is a whole stamp token): the
# README promises that no IP address is stored, and a log is a store. The path alone stays.
access_log_format = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'


class ServiceLogger(Logger):
    """gunicorn's logger, writing to stderr, in JSON lines when LOG_FORMAT is json."""

    def setup(self, cfg: Any) -> None:
        """Set gunicorn's handlers up, then send both logs to stderr in the chosen format."""
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
                    handler.setStream(sys.stderr)
                if _JSON:
                    handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        """Log one answered request: the text line above, or a JSON object of the same fields."""
        if not _JSON:
            super().access(resp, req, environ, request_time)
        elif self.access_log_enabled:
            fields = access_fields(self.atoms(resp, req, environ, request_time))
            self.access_log.info("%s %s %s", fields["method"], fields["path"], fields["status"], extra=fields)


logger_class = ServiceLogger


def post_worker_init(worker: Any) -> None:
    """Warm a new worker up before it accepts requests (traceability/health.warm_up says what and why)."""
    from traceability.health import warm_up

    warm_up(worker.wsgi)
