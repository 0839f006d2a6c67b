"""Render PDFs with poppler, mupdf and Ghostscript as a printer would (no anti-aliasing); find codes in the pixels."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import zxingcpp
from numpy.typing import NDArray
from PIL import Image

from traceability.printing.layouts import Layout
from traceability.printing.pagebuild import page_size_pt, stamp_geometry
from traceability.printing.sizing import LabelPlan

RENDERERS = {"poppler": "pdftoppm", "mupdf": "mutool", "ghostscript": "gs"}


def available(renderer: str) -> bool:
    """Say whether a renderer's command is installed."""
    return shutil.which(RENDERERS[renderer]) is not None


def _command(renderer: str, pdf: Path, out: Path, dpi: int, first: int, last: int) -> list[str]:
    if renderer == "poppler":
        pages = ["-f", str(first), "-l", str(last)]
        return ["pdftoppm", "-r", str(dpi), "-gray", "-aa", "no", "-aaVector", "no", *pages, str(pdf), str(out / "p")]
    if renderer == "mupdf":
        return ["mutool", "draw", "-q", "-r", str(dpi), "-c", "gray", "-A", "0", "-o", str(out / "p-%d.png"),
                str(pdf), f"{first}-{last}"]  # fmt: skip
    return ["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pnggray", f"-r{dpi}", "-dTextAlphaBits=1",
            "-dGraphicsAlphaBits=1", f"-dFirstPage={first}", f"-dLastPage={last}", f"-sOutputFile={out}/p-%d.png",
            str(pdf)]  # fmt: skip


def render(pdf: bytes, renderer: str, dpi: int, first: int = 1, last: int = 1) -> list[NDArray[np.uint8]]:
    """Return grey pages [first, last] (1-based) as rendered at dpi without anti-aliasing."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            _command(renderer, path, Path(tmp), dpi, first, last), check=True, timeout=300, capture_output=True
        )
        files = sorted(Path(tmp).glob("p*.p[ng]*"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        return [np.asarray(Image.open(f).convert("L")) for f in files]


def symbol_window(layout: Layout, plan: LabelPlan, position: int, dpi: int) -> tuple[int, int, int]:
    """Return (top, left, side) in pixels at dpi of the symbol (quiet zone excluded) at a position on a page."""
    geometry = stamp_geometry(layout, plan, position)
    height = page_size_pt(layout)[1]
    side = plan.symbol_modules * plan.module_dots * dpi / plan.dpi
    top = (height - geometry.qr_y) * dpi / 72 - side
    return round(top), round(geometry.qr_x * dpi / 72), round(side)


def exact_module_errors(
    page: NDArray[np.uint8], matrix: NDArray[np.bool_], window: tuple[int, int, int], pixels: int
) -> int:
    """Return how many pixels of the symbol and its quiet zone differ from matrix drawn with pixels per module."""
    top, left, _ = window
    quiet = 4 * pixels
    expected = np.kron(np.pad(matrix, 4), np.ones((pixels, pixels), dtype=bool))
    got = page[top - quiet : top - quiet + expected.shape[0], left - quiet : left - quiet + expected.shape[1]] < 128
    return int((got != expected).sum())


def decode_cell(page: NDArray[np.uint8], window: tuple[int, int, int]) -> str | None:
    """Return the text zxing-cpp reads in a symbol's window with a margin around it, or None."""
    top, left, side = window
    margin = side // 4
    cell = page[max(0, top - margin) : top + side + margin, max(0, left - margin) : left + side + margin]
    found = zxingcpp.read_barcodes(cell, formats=zxingcpp.BarcodeFormat.QRCode)
    return found[0].text if found else None
