"""Shared set-up for the office analytics tests: a batch with scans and reports made through the public pages."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from PIL import Image

from tests.conftest import BASE_URL
from traceability.stamps import batches
from traceability.stamps.batches import BatchOptions, IssuedStamp
from traceability.stamps.models import Batch, RangeState

ACTIVATED = 20  # stamps 0..19 are on goods; 20..29 printed but never applied


@dataclass
class Stamped:
    batch: Batch
    stamps: list[IssuedStamp]

    def path(self, sequence: int) -> str:
        return self.stamps[sequence].url.removeprefix(BASE_URL)


@pytest.fixture
def stamped(session: Any, store: Any, signing_key: Any, publication_key: Any, factory: Any) -> Stamped:
    """Return an issued batch of 30 stamps of a 4-star product, 0..19 activated."""
    producer = factory.producer("NT-P01", name="Hợp tác xã Nho Phước Thuận", short_name="HTX Phước Thuận")
    product = factory.product("NT-SP01", producer=producer, name="Nho xanh Ninh Thuận")
    batch = batches.issue_direct(
        session, store, product, 30, BatchOptions(lot="L7"), actor="test", maximum=1000, today=date.today()
    )
    batches.change_range(session, batch, 0, ACTIVATED, RangeState.ACTIVATED, actor="test")
    session.commit()
    return Stamped(batch, list(batches.stamps(batch, store.load(signing_key.id), BASE_URL)))


def scan(app: Any, path: str, device: int, **kw: Any) -> Any:
    """Open a stamp's page as one phone (its own address and user agent), as a shopper would."""
    client = kw.pop("client", None) or app.test_client()
    return client.get(
        path,
        environ_base={"REMOTE_ADDR": f"198.51.{device}.7"},
        headers={"User-Agent": f"Phone model {device}", "Accept-Language": "en"},
    )


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html))


def place(app: Any, path: str, device: int, province: str) -> None:
    """Scan as one phone and tell the province on the page's own form."""
    client = app.test_client()
    page = scan(app, path, device, client=client).get_data(as_text=True)
    fields = hidden_fields(page.split('id="scans"')[1])
    env = {"REMOTE_ADDR": f"198.51.{device}.7"}
    response = client.post(
        "/place",
        data={**fields, "province": province},
        environ_base=env,
        headers={"User-Agent": f"Phone model {device}"},
    )
    assert response.status_code == 302


def photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


def public_report(app: Any, path: str, device: int, **fields: Any) -> Any:
    """File a report through the stamp page's own form, as a shopper would."""
    client = app.test_client()
    env = {"REMOTE_ADDR": f"203.0.113.{device}"}
    page = client.get(path, environ_base=env).get_data(as_text=True)
    form = hidden_fields(page.split('id="report"')[1])
    return client.post("/report", data={**form, **fields}, environ_base=env, content_type="multipart/form-data")


def office(auth: Any, role: str = "inspector") -> Any:
    user = auth.user(role)
    assert auth.login(user.email).status_code == 302
    return user


def section(html: str, element_id: str) -> str:
    """Return the HTML of the element with this id (up to the end of its table, or a paragraph)."""
    start = html.index(f'id="{element_id}"')
    end = min(i for i in (html.find("</table>", start), html.find("</p>", start)) if i != -1)
    return html[start:end]


# --- Scan analytics ---------------------------------------------------------------------------------
