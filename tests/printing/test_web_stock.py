"""Label stock on the print-job page: a standard layout, a gLabels product found without JavaScript, or typed
dimensions; a too-small label refused with the size it needs; a scratch-off batch's hidden codes as a file of
their own, for those who may hold them."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import csrf_token
from tests.printing.conftest import decode_pdf
from tests.printing.test_web_jobs import finish, only_job
from traceability.audit.models import AuditEntry
from traceability.printing.models import PrintJob
from traceability.stamps import batches, scratch, serials
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import Batch


def issued(session: Session, store: Any, factory: Any, code: str, **options: Any) -> Batch:
    product = factory.product(code, producer=factory.producer(f"{code}-HTX"))
    batch = batches.new_request(
        session, product, 12, BatchOptions(**options), actor="t", maximum=1000, today=date.today()
    )
    batches.issue(session, store, batch, actor="user:admin", today=date.today())
    session.commit()
    return batch


@pytest.fixture
def world(session: Session, store: Any, signing_key: Any, factory: Any, auth: Any) -> dict[str, Any]:
    """A plain batch and a scratch-off batch of one producer's, and the office's users."""
    plain = issued(session, store, factory, "P-SP01", layout="a4-30mm")
    boxed = issued(session, store, factory, "S-SP01", layout="avery-l7160", scratch_off=True)
    return {
        "plain": plain,
        "boxed": boxed,
        "plain_owner": auth.user("producer", producer=plain.product.producer),
        "boxed_owner": auth.user("producer", producer=boxed.product.producer),
        "admin": auth.user("administrator"),
        "inspector": auth.user("inspector"),
    }


def send(client: FlaskClient, page: str, start: str, form: dict[str, str]) -> Any:
    """Post the print form found on page to start, with its CSRF token."""
    return client.post(start, data={"csrf_token": csrf_token(client, page), **form})


def pages(batch: Batch, side: str = "portal") -> tuple[str, str]:
    """Return the page showing the print form and the address it posts to."""
    page = f"/portal/batches/{batch.id}/download" if side == "portal" else f"/office/batches/{batch.id}"
    return page, f"/{side}/batches/{batch.id}/print"


def test_the_form_offers_three_ways_and_finds_products_without_javascript(
    client: FlaskClient, auth: Any, session: Session, world: dict[str, Any], english: None
) -> None:
    auth.login(world["plain_owner"].email)
    page, start = pages(world["plain"])
    html = client.get(page).get_data(as_text=True)
    for kind in ("named", "template", "custom"):
        assert f'name="stock" type="radio" value="{kind}"' in html
    assert "products whose labels hold a stamp; type a brand or part number and press Find." in html
    assert re.search(r'<input checked id="stock-0"', html), "the batch's own layout is a standard one"

    found = send(client, page, start, {"template_search": "avery L7160", "find": "1", "format": "pdf"})
    html = found.get_data(as_text=True)
    assert found.status_code == 200 and "1 of 1 products whose labels hold a stamp" in html
    options = re.findall(r'<option[^>]*value="([^"]+)"', html.split('id="template"', 1)[1].split("</select>", 1)[0])
    assert options == ["avery-l7160"]
    assert re.search(r'<input checked id="stock-1"', html), "a search chooses the product way"
    assert session.scalars(select(PrintJob)).all() == []


@pytest.mark.parametrize(
    ("form", "stored", "per_page"),
    [
        ({"stock": "template", "template": "avery-l7160"}, "avery-l7160", 12),
        ({"stock": "custom", "page": "roll", "label_width": "40", "label_height": "30"}, "custom-40x30-roll", 1),
        (
            {"stock": "custom", "page": "a4", "label_width": "45", "label_height": "30", "columns": "4",
             "rows": "8", "gap_x": "3", "gap_y": "2", "margin_left": "9", "margin_top": "20", "dpi": "600"},
            "custom-45x30-4x8-g3x2-a4-m9x20@600",
            12,
        ),
    ],
)  # fmt: skip
def test_a_glabels_product_and_a_custom_size_print_from_the_web(
    app: Flask,
    client: FlaskClient,
    auth: Any,
    session: Session,
    world: dict[str, Any],
    form: dict[str, str],
    stored: str,
    per_page: int,
) -> None:
    batch = world["plain"]
    auth.login(world["plain_owner"].email)
    page, start = pages(batch)
    response = send(client, page, start, dict(format="pdf", layout="a4-30mm", **form))
    assert response.status_code == 303, response.get_data(as_text=True)
    job = only_job(session)
    assert job.layout == stored
    finish(app, session)
    with client.get(f"{start}/{job.id}/pdf") as download:
        pdf = download.get_data()
    assert download.status_code == 200
    decoded = decode_pdf(pdf)
    assert sum(len(codes) for codes in decoded) == 12 and max(len(codes) for codes in decoded) == per_page
    if shutil.which("qpdf"):
        path = Path(app.config["PRINT_DIR"]) / "check.pdf"
        path.write_bytes(pdf)
        checked = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    # The form shows the stored stock again, so asking once more reuses the job: the same bytes.
    html = client.get(page).get_data(as_text=True)
    assert f"/print/{job.id}" in html
    again = send(client, page, start, dict(format="pdf", layout="a4-30mm", **form))
    assert again.headers["Location"].endswith(f"/print/{job.id}")


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "labels of 20 × 20 mm are too small for this batch&#39;s QR code"),
        ("vi", "nhãn 20 × 20 mm quá nhỏ cho mã QR của lô này"),
    ],
)
def test_a_label_too_small_is_refused_with_the_smallest_size_in_the_readers_language(
    client: FlaskClient, auth: Any, session: Session, world: dict[str, Any], language: str, message: str
) -> None:
    client.set_cookie("lang", language)
    auth.login(world["plain_owner"].email)
    page, start = pages(world["plain"])
    form = {"stock": "custom", "page": "roll", "label_width": "20", "label_height": "20", "format": "pdf"}
    response = send(client, page, start, form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and "24.6 × 29.7 mm" in html and 'id="stock-error"' in html
    assert session.scalars(select(PrintJob)).all() == []


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"label_width": "abc"}, "label_width", "write a length in millimetres from 5 to 500"),
        ({"columns": "7"}, "stock", "7 × 8 labels of 30 × 30 mm with these margins and gaps take"),
        ({"margin_left": "10"}, "margin_top", "give both margins, or neither"),
        ({"dpi": "50"}, "dpi", "from 100 to 4800"),
    ],
)
def test_custom_dimensions_are_refused_on_the_field_to_correct(
    client: FlaskClient,
    auth: Any,
    session: Session,
    world: dict[str, Any],
    english: None,
    form: dict[str, str],
    field: str,
    message: str,
) -> None:
    auth.login(world["plain_owner"].email)
    page, start = pages(world["plain"])
    sheet = {"stock": "custom", "page": "a4", "label_width": "30", "label_height": "30", "columns": "6", "rows": "8"}
    response = send(client, page, start, dict(format="pdf", **{**sheet, **form}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html
    assert f'id="{field}-error"' in html
    assert session.scalars(select(PrintJob)).all() == []


def expected_codes(batch: Batch) -> list[dict[str, str]]:
    assert batch.secret is not None
    return [
        {
            "serial": serials.serial(batch.id, n, batch.secret),
            "hidden_code": scratch.printed(scratch.scratch_code(batch.secret, n)),
        }
        for n in range(batch.quantity)
    ]


@pytest.mark.parametrize("side", ["portal", "office"])
def test_a_scratch_off_batch_gets_boxed_labels_and_its_codes_apart(
    app: Flask, client: FlaskClient, auth: Any, session: Session, world: dict[str, Any], english: None, side: str
) -> None:
    batch = world["boxed"]
    auth.login(world["boxed_owner" if side == "portal" else "admin"].email)
    page, start = pages(batch, side)
    html = client.get(page).get_data(as_text=True)
    assert 'value="codes"' in html and "Hidden scratch-off codes (CSV)" in html

    refused = send(client, page, start, {"layout": "a4-30mm", "format": "pdf"})
    assert refused.status_code == 422 and "scratch-off box" in refused.get_data(as_text=True)

    assert (
        send(client, page, start, {"stock": "template", "template": "avery-l7160", "format": "pdf"}).status_code == 303
    )
    assert (
        send(client, page, start, {"stock": "template", "template": "avery-l7160", "format": "codes"}).status_code
        == 303
    )
    finish(app, session)
    pdf_job, codes_job = session.scalars(select(PrintJob).order_by(PrintJob.id)).all()
    session.commit()
    with client.get(f"{start}/{codes_job.id}/codes") as download:
        text = download.get_data(as_text=True)
    assert download.status_code == 200 and "private" in download.headers["Cache-Control"]
    assert list(csv.DictReader(io.StringIO(text))) == expected_codes(batch)
    with client.get(f"{start}/{pdf_job.id}/pdf") as download:
        pdf = download.get_data()
    assert b"[1.5 1] 0 d" in _inflated(pdf)  # the scratch box's dashed outline
    assert not any(row["hidden_code"].encode() in pdf for row in expected_codes(batch))
    assert not any(row["hidden_code"] in _text(pdf) for row in expected_codes(batch))
    assert client.get(f"{start}/{pdf_job.id}/codes").status_code == 404  # never part of the sheets' job
    kept = Path(app.config["PRINT_DIR"]) / f"batch-{batch.id}" / f"batch-{batch.id}-avery-l7160-M.codes.csv"
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.download")).all()
    assert {"codes", "pdf"} == {entry.after["format"] for entry in entries}


def test_codes_are_not_offered_for_a_plain_batch_nor_to_inspectors_or_other_producers(
    client: FlaskClient, auth: Any, session: Session, world: dict[str, Any], english: None
) -> None:
    auth.login(world["plain_owner"].email)
    page, start = pages(world["plain"])
    assert 'value="codes"' not in client.get(page).get_data(as_text=True)
    refused = send(client, page, start, {"layout": "a4-30mm", "format": "codes"})
    assert refused.status_code == 422 and session.scalars(select(PrintJob)).all() == []
    boxed = world["boxed"]
    assert client.get(f"/portal/batches/{boxed.id}/download").status_code == 404  # another producer's batch
    assert client.get(f"/portal/batches/{boxed.id}/print/1/codes").status_code == 404
    auth.logout()
    auth.login(world["inspector"].email)
    assert client.get(f"/office/batches/{boxed.id}/print/1/codes").status_code == 403


def _inflated(pdf: bytes) -> bytes:
    import zlib

    out = []
    for match in re.finditer(rb"stream\n(.*?)endstream", pdf, re.S):
        try:
            out.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(out)


def _text(pdf: bytes) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()
