"""Sheets as a print shop's preflight and a printer's rasteriser see them: PDF/X-4 structure, whole-dot modules.

Rendered with poppler, mupdf and Ghostscript at the printer's own resolution without anti-aliasing, as a printer
rasterises: every module is exactly module_dots × module_dots pixels, and every code decodes.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zlib
from datetime import datetime
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest

from tests.printing.conftest import MakeStamps
from tests.printing.rendering import RENDERERS, available, decode_cell, exact_module_errors, render, symbol_window
from traceability.printing.fontfiles import find_fonts
from traceability.printing.layouts import LAYOUTS, Layout
from traceability.printing.pdfx import find_output_profile
from traceability.printing.qrbatch import encode_batch
from traceability.printing.sheets import PrintableStamp, write_pdf
from traceability.printing.sizing import plan_label
from traceability.printing.stock import resolve_layout

FONTS = find_fonts()
WHEN = datetime(2026, 3, 1, 8, 30)


def print_pdf(stamps: list[PrintableStamp], layout: Layout, **options: object) -> bytes:
    out = io.BytesIO()
    write_pdf(stamps, out, layout=layout, fonts=FONTS, batch_label="7", workers=1, creation_date=WHEN, **options)  # type: ignore[arg-type]
    return out.getvalue()


@pytest.fixture(scope="module")
def sheet(make_stamps: MakeStamps) -> tuple[bytes, list[PrintableStamp]]:
    stamps = make_stamps(60, seed=5)  # two sheets of a4-30mm
    return print_pdf(stamps, LAYOUTS["a4-30mm"]), stamps


def objects(pdf: bytes, pattern: bytes) -> list[bytes]:
    return re.findall(rb"\d+ 0 obj\n(<<.*?" + pattern + rb".*?>>)\n", pdf, re.S)


def test_the_file_declares_pdf_x4_with_an_embedded_output_profile(sheet: tuple[bytes, list[PrintableStamp]]) -> None:
    pdf, _ = sheet
    assert pdf.startswith(b"%PDF-1.6\n")
    catalog = objects(pdf, rb"/Type /Catalog")[0]
    assert b"/OutputIntents [" in catalog and b"/Metadata " in catalog
    [intent] = objects(pdf, rb"/Type /OutputIntent")
    assert b"/S /GTS_PDFX" in intent and b"/OutputConditionIdentifier (Custom)" in intent
    profile_ref = int(re.search(rb"/DestOutputProfile (\d+) 0 R", intent).group(1))  # type: ignore[union-attr]
    match = re.search(rb"\n%d 0 obj\n<< (/N 4 /Filter /FlateDecode) /Length (\d+) >>\nstream\n" % profile_ref, pdf)
    assert match
    data = zlib.decompress(pdf[match.end() : match.end() + int(match.group(2))])
    assert data == Path(find_output_profile()).read_bytes() and data[12:20] == b"prtrCMYK"


def test_info_and_xmp_agree_on_version_dates_trapped_and_id(sheet: tuple[bytes, list[PrintableStamp]]) -> None:
    pdf, _ = sheet
    info = objects(pdf, rb"/GTS_PDFXVersion")[0]
    assert b"/GTS_PDFXVersion (PDF/X-4)" in info and b"/Trapped /False" in info
    assert b"/CreationDate (D:20260301083000+00'00')" in info and b"/ModDate (D:20260301083000+00'00')" in info
    xmp = re.search(rb"<\?xpacket begin.*?<\?xpacket end=\"r\"\?>", pdf, re.S).group(0).decode()  # type: ignore[union-attr]
    assert "<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>" in xmp
    assert "<pdf:Trapped>False</pdf:Trapped>" in xmp and "<xmp:CreateDate>2026-03-01T08:30:00+00:00<" in xmp
    file_id = re.search(rb"/ID \[<([0-9A-F]{32})> <\1>\]", pdf).group(1).decode()  # type: ignore[union-attr]
    uuid = f"{file_id[:8]}-{file_id[8:12]}-{file_id[12:16]}-{file_id[16:20]}-{file_id[20:]}".lower()
    assert f"<xmpMM:DocumentID>uuid:{uuid}</xmpMM:DocumentID>" in xmp
    title = re.search(r"<rdf:li xml:lang=\"x-default\">(.*?)</rdf:li>", xmp).group(1)  # type: ignore[union-attr]
    assert title == "Tem OCOP, lô tem 7, khổ a4-30mm"


def test_pages_have_trim_and_bleed_boxes_and_only_grey(sheet: tuple[bytes, list[PrintableStamp]]) -> None:
    pdf, _ = sheet
    pages = objects(pdf, rb"/Type /Page ")
    assert len(pages) == 2
    for page in pages:
        media = re.search(rb"/MediaBox (\[[^]]*\])", page).group(1)  # type: ignore[union-attr]
        assert b"/TrimBox " + media in page and b"/BleedBox " + media in page
    contents = [
        zlib.decompress(pdf[m.end() : m.end() + int(m.group(1))])
        for m in re.finditer(rb"<<\s+(?:/Type /XObject /Subtype /Form /BBox \[[-\d ]+\] )?/Filter /FlateDecode "
                             rb"/Length (\d+) >>\nstream\n", pdf)
    ]  # fmt: skip
    contents = [c for c in contents if not c.startswith(b"/CIDInit")]  # the fonts' ToUnicode maps
    assert len(contents) == 2 + 60  # two pages, sixty codes
    operators = set(re.findall(rb"[A-Za-z*']+", re.sub(rb"<[0-9A-F]*>", b"", b"\n".join(contents))))
    painting = {b"q", b"Q", b"cm", b"w", b"G", b"m", b"l", b"S", b"re", b"f", b"Do", b"F"}  # "F" of /F1 and /F2
    text = {b"BT", b"ET", b"Td", b"Tf", b"Tj"}
    assert operators <= painting | text | {b"Q%d" % i for i in range(48)}
    assert not re.search(rb"/Device(RGB|CMYK)|/ICCBased|/Separation|/Pattern|/SMask", pdf)


def test_a_reprint_is_byte_identical_and_its_id_follows_the_content(make_stamps: MakeStamps) -> None:
    stamps = make_stamps(10, seed=3)
    first, second = print_pdf(stamps, LAYOUTS["roll-30mm"]), print_pdf(stamps, LAYOUTS["roll-30mm"])
    other = print_pdf(make_stamps(10, seed=4), LAYOUTS["roll-30mm"])
    assert first == second
    ids = [re.search(rb"/ID \[<(\w+)>", pdf).group(1) for pdf in (first, other)]  # type: ignore[union-attr]
    assert ids[0] != ids[1]


@pytest.mark.skipif(shutil.which("qpdf") is None, reason="qpdf is not installed (Debian: qpdf)")
def test_qpdf_finds_no_error(sheet: tuple[bytes, list[PrintableStamp]], tmp_path: Path) -> None:
    path = tmp_path / "sheet.pdf"
    path.write_bytes(sheet[0])
    checked = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No syntax or stream encoding errors found" in checked.stdout


def test_pdfium_reads_the_pages_at_their_whole_dot_size(sheet: tuple[bytes, list[PrintableStamp]]) -> None:
    document = pdfium.PdfDocument(sheet[0])
    try:
        width, height = document[0].get_size()
    finally:
        document.close()
    assert (round(width * 300 / 72, 2), round(height * 300 / 72, 2)) == (2480, 3508)  # A4 in whole 300-dpi dots


@pytest.mark.parametrize("renderer", sorted(RENDERERS))
@pytest.mark.parametrize("dpi", [203, 300, 600])
def test_every_module_is_whole_dots_and_every_code_decodes(renderer: str, dpi: int, make_stamps: MakeStamps) -> None:
    if not available(renderer):
        pytest.skip(f"{RENDERERS[renderer]} is not installed")
    layout = resolve_layout("custom-30x30-3x2-g2-a5").at_dpi(dpi)  # a small page renders quickly
    stamps = make_stamps(6, seed=dpi)
    pdf = print_pdf(stamps, layout)
    plan = plan_label(layout, 41)
    matrices = encode_batch(stamps[0].url_prefix.encode(), [s.digits for s in stamps])
    first = 2 if layout.run_ticket else 1
    [page] = render(pdf, renderer, dpi, first, first)
    for position, (stamp, matrix) in enumerate(zip(stamps, matrices, strict=True)):
        window = symbol_window(layout, plan, position, dpi)
        assert exact_module_errors(page, matrix, window, plan.module_dots) == 0, (renderer, dpi, position)
        assert decode_cell(page, window) == stamp.url


@pytest.mark.parametrize("renderer", sorted(RENDERERS))
def test_a_full_a4_sheet_decodes_in_every_renderer(renderer: str, sheet: tuple[bytes, list[PrintableStamp]]) -> None:
    if not available(renderer):
        pytest.skip(f"{RENDERERS[renderer]} is not installed")
    pdf, stamps = sheet
    layout = LAYOUTS["a4-30mm"]
    plan = plan_label(layout, 41)
    pages = render(pdf, renderer, 300, 1, 2)
    found = [decode_cell(pages[i // 48], symbol_window(layout, plan, i % 48, 300)) for i in range(len(stamps))]
    assert found == [s.url for s in stamps]
    assert np.mean(pages[0] < 128) > 0.05  # something was drawn
