"""CSV placements and ZIP archives of one image per stamp."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from traceability.printing.layouts import LAYOUTS
from traceability.printing.printerfiles import write_csv, write_zip
from traceability.printing.qrbatch import encode_batch
from traceability.printing.sheets import PrintableStamp

MakeStamps = Callable[..., list[PrintableStamp]]


def test_csv_lists_serial_url_sheet_and_position(make_stamps: MakeStamps) -> None:
    stamps = make_stamps(100)
    out = io.BytesIO()
    assert write_csv(stamps, out, LAYOUTS["a4-30mm"]) == 100
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"))))
    assert rows[0] == ["serial", "url", "sheet", "position"]
    assert rows[1] == [stamps[0].serial, stamps[0].url, "1", "1"]
    assert rows[48] == [stamps[47].serial, stamps[47].url, "1", "48"]
    assert rows[49] == [stamps[48].serial, stamps[48].url, "2", "1"]
    assert rows[100] == [stamps[99].serial, stamps[99].url, "3", "4"]
    assert len(rows) == 101


def test_csv_for_a_roll_has_one_stamp_per_sheet(make_stamps: MakeStamps) -> None:
    out = io.BytesIO()
    write_csv(make_stamps(3), out, LAYOUTS["roll-30mm"])
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"))))
    assert [(r[2], r[3]) for r in rows[1:]] == [("1", "1"), ("2", "1"), ("3", "1")]


def svg_matrix(svg: str, span: int) -> np.ndarray:
    """Rebuild the module grid from the run rectangles of an SVG written by write_zip."""
    grid = np.zeros((span, span), dtype=bool)
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", svg):
        grid[int(y), int(x) : int(x) + int(width)] = True
    return grid


def test_svg_archive_has_one_crisp_file_per_serial(make_stamps: MakeStamps) -> None:
    stamps = make_stamps(30)
    out = io.BytesIO()
    assert write_zip(stamps, out, "svg") == 30
    matrices = encode_batch(stamps[0].url_prefix.encode(), [s.digits for s in stamps])
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        assert archive.namelist() == [f"{s.serial}.svg" for s in stamps]
        for stamp, matrix in zip(stamps, matrices, strict=True):
            svg = archive.read(f"{stamp.serial}.svg").decode()
            assert 'shape-rendering="crispEdges"' in svg
            assert 'width="16.170mm"' in svg
            assert np.array_equal(svg_matrix(svg, 49)[4:-4, 4:-4], matrix)
            assert not svg_matrix(svg, 49)[[0, 1, 2, 3, -4, -3, -2, -1]].any()


def test_png_archive_is_one_bit_whole_pixels_and_decodes(make_stamps: MakeStamps) -> None:
    stamps = make_stamps(20)
    out = io.BytesIO()
    assert write_zip(stamps, out, "png", module_px=4) == 20
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        for stamp in stamps:
            with Image.open(io.BytesIO(archive.read(f"{stamp.serial}.png"))) as image:
                assert image.mode == "1"
                assert image.size == (49 * 4, 49 * 4)
                pixels = np.array(image)
            blocks = pixels.reshape(49, 4, 49, 4)
            assert (blocks == blocks[:, :1, :, :1]).all()  # every module is a uniform 4 x 4 block
            gray = np.where(pixels, 255, 0).astype(np.uint8)
            results = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
            assert [r.text for r in results] == [stamp.url]


def test_archives_are_reproducible(make_stamps: MakeStamps) -> None:
    stamps = make_stamps(5)
    first, second = io.BytesIO(), io.BytesIO()
    write_zip(stamps, first, "png")
    write_zip(stamps, second, "png")
    assert first.getvalue() == second.getvalue()


@pytest.mark.parametrize(("serial", "message"), [("a/b", "file name"), ("", "file name")])
def test_serials_that_are_not_file_names_are_refused(make_stamps: MakeStamps, serial: str, message: str) -> None:
    stamp = make_stamps(1)[0]
    bad = PrintableStamp(serial, stamp.url_prefix, stamp.digits, stamp.stars, stamp.label)
    with pytest.raises(ValueError, match=message):
        write_zip([bad], io.BytesIO(), "svg")


def test_duplicate_serials_are_refused(make_stamps: MakeStamps) -> None:
    stamp = make_stamps(1)[0]
    with pytest.raises(ValueError, match="appears twice"):
        write_zip([stamp, stamp], io.BytesIO(), "svg")
