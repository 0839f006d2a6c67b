"""Print small batches to PDF, rasterise every page at 300 dpi and read every code back with zbar."""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pypdfium2 as pdfium
import pytest
from pyzbar import pyzbar

from traceability.printing.fontfiles import find_fonts
from traceability.printing.layouts import LAYOUTS, Layout
from traceability.printing.sheets import PrintableStamp, PrintStats, write_pdf
from traceability.printing.sizing import LabelTooSmall
from traceability.printing.stock import resolve_layout

BATCH = "Lô 2026-001"
COUNT = 250
FONTS = find_fonts()  # DejaVu Sans, as fontconfig finds it

MakeStamps = Callable[..., list[PrintableStamp]]
Printed = tuple[Layout, list[PrintableStamp], bytes, PrintStats]


def print_pdf(stamps: list[PrintableStamp], layout: Layout, **options: object) -> tuple[bytes, PrintStats]:
    """Return the PDF of a batch and its statistics."""
    out = io.BytesIO()
    stats = write_pdf(stamps, out, layout=layout, fonts=FONTS, batch_label=BATCH, workers=1, **options)  # type: ignore[arg-type]
    return out.getvalue(), stats


def stamp_pages(layout: Layout, stamps: list[PrintableStamp]) -> list[list[PrintableStamp]]:
    """Return the stamps expected on each PDF page (a run ticket page holds none)."""
    per = layout.per_sheet
    pages = [stamps[i : i + per] for i in range(0, len(stamps), per)]
    return [[], *pages] if layout.run_ticket else pages


def read_pages(pdf: bytes) -> list[tuple[list[str], str]]:
    """Return, per page, the QR texts zbar reads at 300 dpi and the extracted page text."""
    document = pdfium.PdfDocument(pdf)
    pages = []
    try:
        for index in range(len(document)):
            page = document[index]
            # Without anti-aliasing, as a printer rasterises: zbar's whole-page scan misses a few smoothed codes.
            image = page.render(scale=300 / 72, grayscale=True, no_smoothpath=True).to_pil()
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            textpage.close()
            page.close()
            codes = pyzbar.decode(image, symbols=[pyzbar.ZBarSymbol.QRCODE])
            pages.append(([c.data.decode("ascii") for c in codes], text))
    finally:
        document.close()
    return pages


# The named layouts that hold a stamp's code, a custom size with the text beside the code, in English.
PRINTED = ("a4-30mm", "roll-30mm", "custom-45x30-4x8-g3-a4")


@pytest.fixture(scope="module", params=PRINTED)
def printed(request: pytest.FixtureRequest, make_stamps: MakeStamps) -> Printed:
    """Print the same 250-stamp batch once per layout."""
    layout = resolve_layout(request.param)
    stamps = make_stamps(COUNT, seed=42)
    pdf, stats = print_pdf(stamps, layout, language="en" if layout.name.startswith("custom") else "vi")
    return layout, stamps, pdf, stats


def test_every_code_on_every_page_reads_back_as_its_url(printed: Printed) -> None:
    layout, stamps, pdf, stats = printed
    expected = stamp_pages(layout, stamps)
    pages = read_pages(pdf)
    assert len(pages) == len(expected) == stats.pages
    for (codes, _), on_page in zip(pages, expected, strict=True):
        assert sorted(codes) == sorted(s.url for s in on_page)
    assert sum(len(codes) for codes, _ in pages) == COUNT == stats.stamps


def test_text_is_extractable_with_vietnamese_diacritics(printed: Printed) -> None:
    layout, stamps, pdf, _ = printed
    pages = read_pages(pdf)
    expected = stamp_pages(layout, stamps)
    for (_, text), on_page in zip(pages, expected, strict=True):
        for stamp in on_page:
            assert stamp.serial in text
            assert stamp.label in text
            assert f"OCOP {'★' * stamp.stars}" in text
    all_text = "\n".join(text for _, text in pages)
    assert "Cơ sở Mật ong Đắk Lắk" in all_text
    assert "★★★★★" in all_text
    assert BATCH in all_text


def test_sheet_margins_name_the_run_in_the_batch_language(printed: Printed) -> None:
    layout, stamps, pdf, stats = printed
    pages = read_pages(pdf)
    english = layout.name.startswith("custom")
    words = ("sheet", "stamps", "run ticket") if english else ("tờ", "tem", "Phiếu in OCOP")
    if layout.run_ticket:
        ticket = pages[0][1]
        assert words[2] in ticket
        assert layout.name in ticket
        assert f"{COUNT} {words[1]}" in ticket
        assert stamps[0].serial in ticket
        return
    for number, ((_, text), on_page) in enumerate(zip(pages, stamp_pages(layout, stamps), strict=True), start=1):
        assert f"{words[0]} {number}/{stats.sheets}" in text
        assert layout.name in text
        assert f"{on_page[0].serial} – {on_page[-1].serial}" in text
        assert f"{len(on_page)} {words[1]}" in text


def test_codes_are_vector_forms_scaled_to_whole_dot_modules(printed: Printed) -> None:
    _, _, pdf, stats = printed
    forms = re.findall(rb"<< /Type /XObject /Subtype /Form /BBox (\[[^]]*\])", pdf)
    assert len(forms) == COUNT and set(forms) == {b"[-1 -1 42 42]"}  # a module's margin around 41 modules
    # The page scales one form unit to one module of whole printer dots.
    pages = [
        zlib.decompress(pdf[m.end() : m.end() + int(m.group(1))])
        for m in re.finditer(rb"<<  /Filter /FlateDecode /Length (\d+) >>\nstream\n", pdf)
    ]
    scales = set(re.findall(rb"q ([\d.]+) 0 0 \1 [\d.]+ [\d.]+ cm /Q\d+ Do Q", b"\n".join(pages)))
    assert scales == {f"{stats.module_dots * 72 / stats.dpi:.6f}".rstrip("0").encode()}
    assert b"/Subtype /Image" not in pdf


def test_font_is_an_embedded_subset_with_unicode_map(printed: Printed) -> None:
    _, _, pdf, _ = printed
    assert pdf.count(b"/Subtype /Type0") == 2
    assert pdf.count(b"/Encoding /Identity-H") == 2
    assert pdf.count(b"/Subtype /CIDFontType2") == 2
    assert pdf.count(b"/FontFile2") == 2
    assert pdf.count(b"/ToUnicode") == 2
    assert re.search(rb"/BaseFont /[A-Z]{6}\+DejaVuSans ", pdf)
    assert re.search(rb"/BaseFont /[A-Z]{6}\+DejaVuSans-Bold ", pdf)


def test_cross_reference_table_points_at_every_object(printed: Printed) -> None:
    _, _, pdf, _ = printed
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", pdf).group(1))  # type: ignore[union-attr]
    header = re.match(rb"xref\n0 (\d+)\n", pdf[start:])
    assert header
    size = int(header.group(1))
    rows = pdf[start + header.end() : start + header.end() + 20 * size].split(b"\n")
    assert rows[0].startswith(b"0000000000 65535 f")
    for number in range(1, size):
        offset = int(rows[number][:10])
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number)
    assert f"/Size {size} ".encode() in pdf[start:]


def test_modules_are_whole_printer_dots_of_at_least_half_a_millimetre(printed: Printed) -> None:
    layout, _, _, stats = printed
    assert stats.qr_version == 6
    assert stats.dpi == layout.dpi and stats.module_mm == pytest.approx(stats.module_dots * 25.4 / stats.dpi)
    assert stats.module_mm >= 0.5


def test_same_input_gives_byte_identical_pdf(make_stamps: MakeStamps) -> None:
    stamps = make_stamps(60, seed=9)
    when = datetime(2026, 3, 1, 8, 30, tzinfo=timezone(timedelta(hours=7)))
    first, _ = print_pdf(stamps, LAYOUTS["a4-30mm"], creation_date=when)
    second, _ = print_pdf(stamps, LAYOUTS["a4-30mm"], creation_date=when)
    assert first == second
    assert b"/CreationDate (D:20260301083000+07'00')" in first
    undated, _ = print_pdf(stamps, LAYOUTS["a4-30mm"])
    assert b"/CreationDate (D:20000101000000+00'00')" in undated  # PDF/X needs a date: a fixed one


def test_worker_processes_produce_the_same_bytes(make_stamps: MakeStamps) -> None:
    stamps = make_stamps(1100, seed=4)  # three jobs on a4-30mm, so the pool is really used
    single = io.BytesIO()
    write_pdf(stamps, single, layout=LAYOUTS["a4-30mm"], fonts=FONTS, batch_label=BATCH, workers=1)
    pooled = io.BytesIO()
    seen: list[tuple[int, int]] = []
    write_pdf(
        iter(stamps),
        pooled,
        layout=LAYOUTS["a4-30mm"],
        fonts=FONTS,
        batch_label=BATCH,
        count=len(stamps),
        workers=2,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert single.getvalue() == pooled.getvalue()
    assert seen[-1] == (1100, 1100)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"url_prefix": "https://OCOP.gov.vn/v/"}, "lowercase"),
        ({"url_prefix": "ftp://ocop.gov.vn/v/"}, "https"),
        ({"stars": 6}, "stars must be 3, 4 or 5"),
        ({"digits": "12x"}, "decimal digits"),
        ({"label": "Nhà \u4e00"}, "no glyph"),
    ],
)
def test_bad_stamps_are_rejected(make_stamps: MakeStamps, change: dict[str, object], message: str) -> None:
    stamps = make_stamps(3)
    bad = PrintableStamp(**{**stamps[-1].__dict__, **change})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        print_pdf([*stamps[:-1], bad] if "url_prefix" not in change else [bad, *stamps[:-1]], LAYOUTS["a4-30mm"])


def test_count_must_match_the_stamps(make_stamps: MakeStamps) -> None:
    stamps = make_stamps(5)
    with pytest.raises(ValueError, match="got 5 stamps, expected 6"):
        write_pdf(
            iter(stamps), io.BytesIO(), layout=LAYOUTS["roll-30mm"], fonts=FONTS, batch_label=BATCH, count=6, workers=1
        )
    with pytest.raises(TypeError, match="count="):
        write_pdf(iter(stamps), io.BytesIO(), layout=LAYOUTS["roll-30mm"], fonts=FONTS, batch_label=BATCH, workers=1)
    with pytest.raises(ValueError, match="empty"):
        write_pdf([], io.BytesIO(), layout=LAYOUTS["roll-30mm"], fonts=FONTS, batch_label=BATCH, workers=1)


def test_level_q_codes_need_larger_labels_and_read_back_on_them(make_stamps: MakeStamps) -> None:
    stamps = make_stamps(20, seed=8)
    with pytest.raises(LabelTooSmall, match="labels of 30 × 30 mm are too small"):
        print_pdf(stamps, LAYOUTS["a4-30mm"], ecc="Q")
    pdf, stats = print_pdf(stamps, resolve_layout("custom-36x36-5x4-g2-a4"), ecc="Q")
    assert (stats.qr_version, stats.module_dots, stats.dpi) == (8, 6, 300)
    [(codes, _)] = read_pages(pdf)
    assert sorted(codes) == sorted(s.url for s in stamps)


def test_20mm_stamps_are_refused_before_any_output(make_stamps: MakeStamps) -> None:
    out = io.BytesIO()
    with pytest.raises(LabelTooSmall, match=r"needs labels of at least 24\.9 × 30 mm") as refused:
        write_pdf(make_stamps(3), out, layout=LAYOUTS["a4-20mm"], fonts=FONTS, batch_label=BATCH, workers=1)
    assert out.getvalue() == b"" and refused.value.field == "layout"
