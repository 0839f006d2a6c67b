"""Serving: request ids and structured logs, and the web service started with the shipped gunicorn config."""

from __future__ import annotations

import json
import logging
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient

from traceability import create_app
from traceability.config import PROJECT_ROOT
from traceability.errors import ConfigurationError
from traceability.logs import JsonFormatter, access_fields

# --- Request ids and log lines. ---


@pytest.mark.parametrize("incoming", ["abc-123", "req.7_B", "x" * 64])
def test_a_sane_incoming_request_id_is_kept(client: FlaskClient, incoming: str) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": incoming}).headers["X-Request-ID"] == incoming


@pytest.mark.parametrize("incoming", ["", "x" * 65, "two words", "a/b", "é", '{"forged": "line"}'])
def test_any_other_request_id_is_replaced(client: FlaskClient, incoming: str) -> None:
    chosen = client.get("/healthz", headers={"X-Request-ID": incoming}).headers["X-Request-ID"]
    assert chosen != incoming and len(chosen) == 32 and chosen.isalnum()


def test_every_record_of_a_request_carries_its_id(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    def noisy() -> str:
        current_app.logger.info("from the app")
        logging.getLogger("traceability.somewhere").warning("from a module")
        return "ok"

    app.add_url_rule("/_noisy", view_func=noisy)
    with caplog.at_level(logging.INFO):
        reply = app.test_client().get("/_noisy", headers={"X-Request-ID": "trace-1"})
    assert reply.headers["X-Request-ID"] == "trace-1"
    mine = [r for r in caplog.records if r.getMessage().startswith("from ")]
    assert [r.getMessage() for r in mine] == ["from the app", "from a module"]
    assert all(getattr(r, "request_id", None) == "trace-1" for r in mine)
    line = json.loads(JsonFormatter().format(mine[0]))
    assert line["request_id"] == "trace-1" and line["message"] == "from the app" and line["level"] == "INFO"


def test_a_json_line_holds_extras_and_the_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed %s", ("once",), sys.exc_info(), extra={"job": 7}
        )
    text = JsonFormatter().format(record)
    assert "\n" not in text
    line = json.loads(text)
    assert line["message"] == "failed once" and line["job"] == 7 and "ValueError: boom" in line["exception"]
    assert "request_id" not in line  # made outside a request


def test_the_access_line_keeps_no_address_agent_or_query() -> None:
    atoms = {
        "h": "203.0.113.9",
        "a": "Mozilla/5.0 (Linux; Android 14)",
        "f": "https://referrer.example/",
        "m": "GET",
        "U": "/api/v1/verify",
        "q": "code=0855457887746813988996558825",
        "s": "200",
        "B": 2199,
        "D": 12_345,
        "H": "HTTP/1.1",
        "{x-request-id}o": "abc",
    }
    fields = access_fields(atoms)
    assert fields == {
        "method": "GET",
        "path": "/api/v1/verify",
        "status": 200,
        "bytes": 2199,
        "duration_ms": 12.345,
        "protocol": "HTTP/1.1",
        "request_id": "abc",
    }


@pytest.mark.parametrize(("name", "value"), [("LOG_FORMAT", "yaml"), ("LOG_LEVEL", "LOUD")])
def test_a_bad_log_setting_stops_the_start(app_config: dict[str, Any], name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        create_app({**app_config, name: value})


# --- deploy/gunicorn.conf.py: its settings, then gunicorn with it on its own SQLite file, stopped by SIGTERM. ---

GUNICORN_CONFIG = PROJECT_ROOT / "deploy" / "gunicorn.conf.py"


def _shipped_config(monkeypatch: pytest.MonkeyPatch, **environment: str) -> dict[str, Any]:
    for name in ("WEB_CONCURRENCY", "GUNICORN_BIND", "GUNICORN_TIMEOUT", "LOG_FORMAT", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONFIG))


def test_the_shipped_config_sizes_workers_from_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _shipped_config(monkeypatch)
    assert settings["workers"] == 2 * (os.cpu_count() or 1) + 1
    assert settings["bind"] == ["127.0.0.1:8000"] and settings["preload_app"] is False
    assert settings["graceful_timeout"] <= 30 < 45  # deploy/ocop-web.service's TimeoutStopSec is 45
    settings = _shipped_config(monkeypatch, WEB_CONCURRENCY="3", GUNICORN_BIND="unix:/run/ocop/web.sock")
    assert settings["workers"] == 3 and settings["bind"] == ["unix:/run/ocop/web.sock"]
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY"):
        _shipped_config(monkeypatch, WEB_CONCURRENCY="0")


def test_the_text_access_line_names_no_address_agent_referrer_or_query(monkeypatch: pytest.MonkeyPatch) -> None:
    line = _shipped_config(monkeypatch)["access_log_format"]
    # h: address, a: user agent, f: referrer, q and r: the query (a stamp token for /api/v1/verify).
    assert not {"%(h)s", "%(a)s", "%(f)s", "%(q)s", "%(r)s"} & set(re.findall(r"%\([a-zA-Z]\)s", line))
    assert "%(U)s" in line and "%({x-request-id}o)s" in line


STARTUP_SECONDS = 60
GRACEFUL_SECONDS = 30  # deploy/gunicorn.conf.py's graceful_timeout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# No proxy: the environment's http_proxy must not carry a loopback request elsewhere.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with _opener.open(url, timeout=10) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _wait_until_healthy(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            if _get(base + "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"gunicorn did not answer /healthz within {STARTUP_SECONDS} s:\n{log.read_text()}")


@pytest.fixture
def served_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, str], str]:
    """Return the environment of an instance initialised by the CLI, and the URL of one activated stamp."""
    port = _free_port()
    (tmp_path / "keys").mkdir(mode=0o700)
    (tmp_path / "config.toml").write_text("")  # the repository's instance/config.toml must not apply
    settings = {
        "TRACEABILITY_ENV": "development",
        "TRACEABILITY_CONFIG": str(tmp_path / "config.toml"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ocop.sqlite3'}",
        "KEYS_DIR": str(tmp_path / "keys"),
        "PRINT_DIR": str(tmp_path / "prints"),
        "SECRET_KEY": "serving-test-secret-of-at-least-32-characters",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    app = create_app()  # from the environment, as the `traceability` command builds it
    runner = app.test_cli_runner()
    for args in (["init"], ["demo"]):
        assert runner.invoke(args=args).exit_code == 0
    products = [json.loads(line) for line in runner.invoke(args=["products", "--json"]).output.splitlines()]
    product = next(p["code"] for p in products if p["certified"])
    csv = tmp_path / "stamps.csv"
    issued = runner.invoke(
        args=["batch", "issue", "--product", product, "--quantity", "3", "--activate", "--csv", str(csv)]
    )
    assert issued.exit_code == 0, issued.output
    app.extensions["db_engine"].dispose()
    stamp_url = csv.read_text().splitlines()[1].split(",")[1]
    return {**os.environ, **settings, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"}, stamp_url


def test_gunicorn_serves_with_the_shipped_config_and_stops_gracefully(
    served_instance: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    environment, stamp_url = served_instance
    environment["LOG_FORMAT"] = "json"
    base = "http://" + environment["GUNICORN_BIND"]
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG)],
            cwd=tmp_path,  # the config finds wsgi.py itself
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_healthy(process, base, log)
        status, _, body = _get(base + "/readyz")
        assert (status, json.loads(body)["status"]) == (200, "ready")
        assert _get(base + "/")[0] == 200
        status, headers, _ = _get(stamp_url)
        assert status == 200
        page_request_id = headers["X-Request-ID"]
        status, _, body = _get(base + "/api/v1/verify?code=" + stamp_url)
        assert (status, json.loads(body)["verdict"]) == (200, "genuine")

        # A request still arriving when SIGTERM comes is answered before the worker exits.
        with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=10) as slow:
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: ocop\r\n")
            time.sleep(0.5)  # a worker has accepted it and waits for the rest
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            slow.sendall(b"\r\n")
            answer = slow.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200 OK"), answer
        assert process.wait(timeout=GRACEFUL_SECONDS + 10) == 0
        assert time.monotonic() - started < GRACEFUL_SECONDS
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    lines = [json.loads(line) for line in log.read_text().splitlines()]  # every line is one JSON object
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    assert {line["path"] for line in access} >= {"/healthz", "/readyz", "/", "/api/v1/verify"}
    assert any(line["request_id"] == page_request_id and line["path"].startswith("/v/") for line in access)
    assert "127.0.0.1" not in json.dumps(access)  # no client address, and no query (the API's stamp token)
    assert all("code=" not in json.dumps(line) for line in access)
    assert any(line["message"] == "Shutting down: Master" for line in lines)
    # Each worker warmed up before its first request (deploy/gunicorn.conf.py's post_worker_init).
    assert any(line["message"].startswith("warmed up in ") for line in lines)
    assert not any(line["message"].startswith("warm-up failed") for line in lines)


@pytest.mark.parametrize("unit", sorted((PROJECT_ROOT / "deploy").glob("*.service")), ids=lambda path: path.name)
def test_every_shipped_unit_runs_a_command_that_exists(unit: Path, runner: Any) -> None:
    """A renamed command or option would leave a unit failing every night: each ExecStart must parse."""
    commands = [
        line.split("=", 1)[1].split() for line in unit.read_text().splitlines() if line.startswith("ExecStart=")
    ]
    assert commands, unit
    for command in commands:
        if Path(command[0]).name != "traceability":
            assert Path(command[0]).name == "gunicorn"
            continue
        result = runner.invoke(args=[*command[1:], "--help"])
        assert result.exit_code == 0, (command, result.output)
