"""Render the first page of each layout to a small PNG for traceability/printing/README.md.

    .venv/bin/python docs/printing/render_sheets.py        # writes docs/printing/*.png (needs poppler's pdftoppm)

Synthetic stamps (random tokens, never valid signatures) printed through the real write_pdf, rendered by
pdftoppm: whole sheets at 50 dpi to show the layout, and one label at its printer's resolution to show the dots.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.printing.conftest import synthetic_stamps  # noqa: E402
from traceability.printing.fontfiles import find_fonts  # noqa: E402
from traceability.printing.sheets import write_pdf  # noqa: E402
from traceability.printing.stock import resolve_layout  # noqa: E402

HERE = Path(__file__).resolve().parent
SHEETS = {  # layout -> (dpi of the overview, page to show)
    "a4-30mm": (50, 1),
    "avery-l7160": (50, 1),
    "custom-45x30-4x8-g3-a4": (50, 1),
    "roll-30mm": (203, 2),  # page 1 is the run ticket
}


def pdftoppm(pdf: bytes, dpi: int, page: int) -> Image.Image:
    """Return one page rendered in grey at dpi."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-f", str(page), "-l", str(page), "-png", str(path), f"{tmp}/p"],
            check=True,
        )
        return Image.open(next(Path(tmp).glob("p*.png"))).convert("L")


def main() -> None:
    """Write one PNG per layout, and a close-up of one a4-30mm label at 300 dpi."""
    fonts = find_fonts()
    for name, (dpi, page) in SHEETS.items():
        layout = resolve_layout(name)
        stamps = synthetic_stamps(layout.per_sheet, seed=2026)
        out = io.BytesIO()
        write_pdf(stamps, out, layout=layout, fonts=fonts, batch_label="123 · số lô L-01", workers=1)
        image = pdftoppm(out.getvalue(), dpi, page)
        image.save(HERE / f"{name}.png", optimize=True)
        if name == "a4-30mm":
            closeup = pdftoppm(out.getvalue(), 300, 1).crop((100, 250, 100 + 400, 250 + 400))
            closeup.save(HERE / "a4-30mm-label-300dpi.png", optimize=True)
        print(f"{name}: {image.size[0]}×{image.size[1]} px")


if __name__ == "__main__":
    main()
