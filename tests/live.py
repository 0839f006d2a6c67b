"""A live server on a free loopback port and a real headless Chromium, for browser tests.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright; Playwright never downloads a browser here.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class LiveServer:
    """The app served by werkzeug in a thread; `url` is its base URL."""

    def __init__(self, app: Flask) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """Serve the test app on a free port for the duration of the test.

    Each request the browser makes runs in its own session on a server thread; nothing ends the test's own
    transaction for it here, so commit (or roll back) before the browser acts, or SQLite makes it wait.
    """
    with LiveServer(app) as server:
        yield server


def chromium_path() -> str:
    """Return Debian's Chromium, or skip-proof fail with how to install it."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.fail("Chromium is not installed: run ./scripts/test (it installs Debian's chromium)")
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Return one headless Chromium for the whole run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """Return a page in a fresh context shaped like a cheap phone: 360 px wide, Vietnamese."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, device_scale_factor=2, locale="vi-VN", is_mobile=True, has_touch=True
    )
    page = context.new_page()
    yield page
    context.close()


def log_in(page: Any, base: str, email: str, query: str = "") -> None:
    """Log a browser page in through the login form (the test users' password), e.g. query="?lang=en"."""
    from tests.conftest import PASSWORD

    page.goto(f"{base}/login{query}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.wait_for_load_state()
