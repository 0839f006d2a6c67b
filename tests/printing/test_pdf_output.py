"""Print small batches to PDF, rasterise every page at 300 dpi and read every code back with zbar."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pypdfium2 as pdfium
import pytest
from pyzbar import pyzbar

from traceability.printing.layouts import LAYOUTS, Layout
from traceability.printing.sheets import PrintableStamp, PrintStats, write_pdf

BATCH = "Lô 2026-001"
COUNT = 250

MakeStamps = Callable[..., list[PrintableStamp]]
Printed = tuple[Layout, list[PrintableStamp], bytes, PrintStats]


def print_pdf(stamps: list[PrintableStamp], layout: Layout, **options: object) -> tuple[bytes, PrintStats]:
    """Return the PDF of a batch and its statistics."""
    out = io.BytesIO()
    stats = write_pdf(stamps, out, layout=layout, batch_label=BATCH, workers=1, **options)  # type: ignore[arg-type]
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
            image = page.render(scale=300 / 72, grayscale=True).to_pil()
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            textpage.close()
            page.close()
            codes = pyzbar.decode(image, symbols=[pyzbar.ZBarSymbol.QRCODE])
            pages.append(([c.data.decode("ascii") for c in codes], text))
    finally:
        document.close()
    return pages


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def printed(request: pytest.FixtureRequest, make_stamps: MakeStamps) -> Printed:
    """Print the same 250-stamp batch once per layout."""
    layout = LAYOUTS[request.param]
    stamps = make_stamps(COUNT, seed=42)
    pdf, stats = print_pdf(stamps, layout)
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


def test_sheet_margins_name_the_run(printed: Printed) -> None:
    layout, stamps, pdf, stats = printed
    pages = read_pages(pdf)
    if layout.run_ticket:
        ticket = pages[0][1]
        assert "run ticket" in ticket
        assert layout.name in ticket
        assert f"{COUNT} stamps" in ticket
        assert stamps[0].serial in ticket
        return
    for number, ((_, text), on_page) in enumerate(zip(pages, stamp_pages(layout, stamps), strict=True), start=1):
        assert f"sheet {number}/{stats.sheets}" in text
        assert layout.name in text
        assert f"{on_page[0].serial} – {on_page[-1].serial}" in text
        assert f"{len(on_page)} stamps" in text


def test_codes_are_one_bit_image_masks_never_interpolated(printed: Printed) -> None:
    _, _, pdf, _ = printed
    images = re.findall(rb"<<[^>]*/Subtype /Image[^>]*>>", pdf)
    assert len(images) == COUNT
    for entry in images:
        assert b"/ImageMask true" in entry
        assert b"/BitsPerComponent 1" in entry
        assert b"/Interpolate false" in entry
        assert b"/Width 41 /Height 41" in entry


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


def test_module_size_follows_the_layout(printed: Printed) -> None:
    layout, _, _, stats = printed
    assert stats.qr_version == 6
    assert stats.module_mm == (0.29 if layout.name == "a4-20mm" else 0.33)


def test_same_input_gives_byte_identical_pdf(make_stamps: MakeStamps) -> None:
    stamps = make_stamps(60, seed=9)
    when = datetime(2026, 3, 1, 8, 30, tzinfo=timezone(timedelta(hours=7)))
    first, _ = print_pdf(stamps, LAYOUTS["a4-30mm"], creation_date=when)
    second, _ = print_pdf(stamps, LAYOUTS["a4-30mm"], creation_date=when)
    assert first == second
    assert b"/CreationDate (D:20260301083000+07'00')" in first
    undated, _ = print_pdf(stamps, LAYOUTS["a4-30mm"])
    assert b"/CreationDate" not in undated


def test_worker_processes_produce_the_same_bytes(make_stamps: MakeStamps) -> None:
    stamps = make_stamps(1100, seed=4)  # three jobs on a4-30mm, so the pool is really used
    single = io.BytesIO()
    write_pdf(stamps, single, layout=LAYOUTS["a4-30mm"], batch_label=BATCH, workers=1)
    pooled = io.BytesIO()
    seen: list[tuple[int, int]] = []
    write_pdf(
        iter(stamps),
        pooled,
        layout=LAYOUTS["a4-30mm"],
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
        write_pdf(iter(stamps), io.BytesIO(), layout=LAYOUTS["roll-30mm"], batch_label=BATCH, count=6, workers=1)
    with pytest.raises(TypeError, match="count="):
        write_pdf(iter(stamps), io.BytesIO(), layout=LAYOUTS["roll-30mm"], batch_label=BATCH, workers=1)
    with pytest.raises(ValueError, match="empty"):
        write_pdf([], io.BytesIO(), layout=LAYOUTS["roll-30mm"], batch_label=BATCH, workers=1)


def test_level_q_codes_read_back_even_on_20mm_stamps(make_stamps: MakeStamps) -> None:
    stamps = make_stamps(96, seed=8)
    pdf, stats = print_pdf(stamps, LAYOUTS["a4-20mm"], ecc="Q")
    assert (stats.qr_version, stats.module_mm) == (8, 0.25)
    [(codes, _)] = read_pages(pdf)
    assert sorted(codes) == sorted(s.url for s in stamps)
