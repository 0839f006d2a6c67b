"""Scratch-off batches in print: a marked box kept free on every label, and the hidden codes in a file of their own.

The box is checked in the pixels a printer would rasterise; the codes file against the batch's secret, and its
codes against the PDF's text, where none of them may be.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import zlib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pytest
from sqlalchemy.orm import Session

from tests.printing.conftest import MakeStamps, decode_pdf
from traceability.errors import DomainError
from traceability.printing import services
from traceability.printing.fontfiles import find_fonts
from traceability.printing.layouts import MM, Layout
from traceability.printing.pagebuild import page_size_pt
from traceability.printing.sheets import write_pdf
from traceability.printing.sizing import SCRATCH_BOX_MM, LabelTooSmall, plan_label, with_scratch_box
from traceability.printing.stock import resolve_layout
from traceability.stamps import batches, scratch, serials
from traceability.stamps.models import Batch

FONTS = find_fonts()
DPI = 300


def sheet_pdf(stamps: list[Any], layout: Layout) -> bytes:
    out = io.BytesIO()
    write_pdf(stamps, out, layout=layout, fonts=FONTS, batch_label="7", workers=1, creation_date=datetime(2026, 3, 1))
    return out.getvalue()


def rasterise(pdf: bytes) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """Return the first page in grey at DPI, without anti-aliasing, as a printer rasterises it."""
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[0].render(scale=DPI / 72, grayscale=True, no_smoothpath=True, no_smoothtext=True)
        return np.asarray(image.to_pil().convert("L"))
    finally:
        document.close()


def box_pixels(layout: Layout, position: int) -> tuple[int, int, int, int]:
    """Return (top, left, bottom, right) in pixels at DPI of the scratch box at a position on the page."""
    plan = plan_label(layout, 41)
    assert plan.scratch is not None
    box = layout.stamp_box(position)
    page_top_mm = page_size_pt(layout)[1] / MM
    top = page_top_mm - (box.y + box.height) + plan.scratch.top
    left = box.x + plan.scratch.left
    px = DPI / 25.4
    return (
        round(top * px),
        round(left * px),
        round((top + plan.scratch.height) * px),
        round((left + plan.scratch.width) * px),
    )


def test_each_label_keeps_a_marked_empty_box_and_its_code_still_decodes(make_stamps: MakeStamps) -> None:
    layout = with_scratch_box(resolve_layout("avery-l7160"))
    stamps = make_stamps(layout.per_sheet, seed=3)
    pdf = sheet_pdf(stamps, layout)
    page = rasterise(pdf)
    for position in (0, 10, layout.per_sheet - 1):
        top, left, bottom, right = box_pixels(layout, position)
        assert (right - left, bottom - top) == (
            round(SCRATCH_BOX_MM[0] * DPI / 25.4),
            round(SCRATCH_BOX_MM[1] * DPI / 25.4),
        )
        edge = page[top - 2 : top + 3, left:right].min(axis=0)  # the dashed top edge, give or take a dot
        dark = (edge < 128).mean()
        assert 0.4 < dark < 0.9, f"a dashed outline at position {position}: {dark:.0%} dark"
        inside = page[top + 4 : bottom - 4, left + 4 : right - 4]
        assert (inside > 200).all(), "nothing is printed where the hidden code goes"
    (codes,) = decode_pdf(pdf)
    assert sorted(codes) == sorted(s.url for s in stamps)
    plain = sheet_pdf(stamps, resolve_layout("avery-l7160"))
    assert b"[1.5 1] 0 d" not in _content(plain) and b"[1.5 1] 0 d" in _content(pdf)


def _content(pdf: bytes) -> bytes:
    """Return every Flate stream of the file, inflated."""
    streams = []
    for match in re.finditer(rb"stream\n(.*?)endstream", pdf, re.S):
        try:
            streams.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(streams)


def test_a_label_without_room_for_the_box_is_refused_with_the_size_it_needs() -> None:
    with pytest.raises(LabelTooSmall) as refused:
        services.checked_stock("a4-30mm", True, None)
    message = refused.value.localized()
    assert "30 × 30 mm are too small" in message and "scratch-off box" in message
    assert "24.9 × 36 mm" in message and "40.9 × 24.9 mm" in message
    assert services.checked_stock("a4-30mm", False, None) == "a4-30mm"
    assert services.checked_stock("avery-l7160", True, None) == "avery-l7160"  # the box follows from the batch


@pytest.fixture
def scratch_batch(session: Session, store: Any, signing_key: Any, factory: Any) -> Batch:
    product = factory.product(producer=factory.producer(short_name="HTX Nho Thái An"))
    batch = batches.issue_direct(
        session,
        store,
        product,
        30,
        batches.BatchOptions(lot="L-9", layout="avery-l7160", scratch_off=True),
        actor="test",
        maximum=1000,
        today=date.today(),
    )
    session.commit()
    return batch


def test_the_print_command_writes_the_codes_apart_and_never_in_the_pdf(
    runner: Any, session: Session, scratch_batch: Batch, tmp_path: Path
) -> None:
    pdf, codes, placements = tmp_path / "b.pdf", tmp_path / "codes.csv", tmp_path / "b.csv"
    args = ["batch", "print", str(scratch_batch.id), "--out", str(pdf), "--csv", str(placements)]
    result = runner.invoke(args=[*args, "--codes", str(codes)])
    assert result.exit_code == 0, result.output
    assert "30 stamps on 2 sheets (avery-l7160" in result.output and "codes" in result.output
    secret = scratch_batch.secret
    assert secret is not None
    with codes.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [
        {
            "serial": serials.serial(scratch_batch.id, n, secret),
            "hidden_code": scratch.printed(scratch.scratch_code(secret, n)),
        }
        for n in range(30)
    ]
    assert oct(codes.stat().st_mode & 0o777) == "0o600"
    text = _pdf_text(pdf.read_bytes())
    assert rows[0]["serial"] in text and not any(row["hidden_code"] in text for row in rows)
    assert not any(row["hidden_code"] in placements.read_text(encoding="utf-8") for row in rows)
    assert b"[1.5 1] 0 d" in _content(pdf.read_bytes())
    if shutil.which("qpdf"):
        checked = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr

    # The same run again gives the same bytes, codes included: the box and the codes follow from the batch.
    again = tmp_path / "again"
    again.mkdir()
    result = runner.invoke(
        args=["batch", "print", str(scratch_batch.id), "--out", str(again / "b.pdf"), "--codes", str(again / "c.csv")]
    )
    assert result.exit_code == 0, result.output
    assert (again / "b.pdf").read_bytes() == pdf.read_bytes() and (again / "c.csv").read_bytes() == codes.read_bytes()


def test_a_batch_without_scratch_off_has_no_codes_file_and_writes_nothing(
    runner: Any, session: Session, factory: Any, signing_key: Any, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    product = factory.product()
    session.commit()
    issued = runner.invoke(args=["batch", "issue", "--product", product.code, "--quantity", "3", "--json"])
    batch_id = json.loads(issued.output)["batch"]
    result = runner.invoke(
        args=["batch", "print", str(batch_id), "--out", str(tmp_path / "b.pdf"), "--codes", str(tmp_path / "c.csv")]
    )
    assert result.exit_code == 1 and f"batch {batch_id} has no scratch-off codes" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_scratch_off_batch_on_stock_too_small_for_the_box_is_refused_before_printing(
    runner: Any, scratch_batch: Batch, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    result = runner.invoke(
        args=["batch", "print", str(scratch_batch.id), "--out", str(tmp_path / "b.pdf"), "--layout", "a4-30mm"]
    )
    assert result.exit_code == 1 and "scratch-off box" in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def _pdf_text(pdf: bytes) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()


def test_hidden_codes_need_a_scratch_off_batch() -> None:
    batch = Batch(id=5, scratch_off=False, secret=b"x" * 32)
    with pytest.raises(DomainError, match="no scratch-off codes"):
        services.require_hidden_codes(batch)
