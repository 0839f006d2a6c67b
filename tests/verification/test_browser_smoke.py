"""The home page opens in a real headless Chromium at phone width."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.browser
def test_home_page_in_chromium(live_server: Any, phone: Any) -> None:
    response = phone.goto(live_server.url + "/")
    assert response.status == 200
    assert phone.locator("h1").inner_text()
