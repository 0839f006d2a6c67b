"""Render one encoded QR matrix as SVG or PNG bytes without any resampling."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

import numpy as np
from numpy.typing import NDArray
from PIL import Image


def with_quiet_zone(matrix: NDArray[np.bool_], quiet_zone: int) -> NDArray[np.bool_]:
    """Return the matrix surrounded by light modules."""
    return np.pad(matrix, quiet_zone, constant_values=False)


def svg_bytes(matrix: NDArray[np.bool_], *, module_mm: float, quiet_zone: int = 4, title: str = "") -> bytes:
    """Return an SVG drawing each horizontal run of dark modules as one rectangle, on the module grid."""
    full = with_quiet_zone(matrix, quiet_zone)
    span = full.shape[0]
    edges = np.diff(full.astype(np.int8), axis=1, prepend=0, append=0)
    rows_start, cols_start = np.nonzero(edges == 1)
    _, cols_end = np.nonzero(edges == -1)  # row-major order pairs each start with its end
    path = "".join(
        f"M{c} {r}h{e - c}v1h{c - e}z"
        for r, c, e in zip(rows_start.tolist(), cols_start.tolist(), cols_end.tolist(), strict=True)
    )
    size = f"{span * module_mm:.3f}mm"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {span} {span}" shape-rendering="crispEdges">'
    )
    title_element = f"<title>{escape(title)}</title>" if title else ""
    return f'{head}{title_element}<rect width="{span}" height="{span}" fill="#fff"/><path d="{path}"/></svg>\n'.encode()


def png_bytes(matrix: NDArray[np.bool_], *, module_px: int = 4, quiet_zone: int = 4, dpi: int = 300) -> bytes:
    """Return a 1-bit PNG with exactly module_px × module_px pixels per module (4 px at 300 dpi ≈ 0.34 mm)."""
    full = with_quiet_zone(matrix, quiet_zone)
    pixels = np.repeat(np.repeat(~full, module_px, axis=0), module_px, axis=1)  # True = white in mode "1"
    image = Image.fromarray(pixels)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(dpi, dpi), optimize=False)
    return buffer.getvalue()
