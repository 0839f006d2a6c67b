"""Draw encoded QR matrices as PDF XObjects: vector paths in module units, or 1-bit image masks.

Vector (the default, chosen by benchmarks/qr_rendering.py): one Form XObject per code whose path has one
rectangle per horizontal run of dark modules, in module coordinates; the page scales it to the printer's
whole-dot module. No resolution for preflight to complain about, exact in every renderer when the
module is whole dots. Image masks at the printer's resolution (module_dots pixels per module) are the
alternative; image masks at one pixel per module (the old output) stay available for comparison.
"""

from __future__ import annotations

import zlib
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from traceability.printing.pdfwriter import indirect_object, stream_body

DRAWINGS = ("vector", "image", "mask")  # vector paths; image masks at printer dots; image masks at 1 px a module
VECTOR_LEVEL = 1  # zlib level of a code's path: level 6 saves a fifth of the file for 2.5 times the time


@lru_cache(maxsize=8)
def _numbers(width: int, count: int) -> NDArray[np.uint8]:
    """Return the right-aligned ASCII of 0..count-1, width characters each (a leading space separates tokens)."""
    return np.array([list(f"{i:>{width}d}".encode()) for i in range(count)], dtype=np.uint8)


def inset(module_dots: int) -> tuple[float, str]:
    """Return δ, a 64th of a printer dot in modules (how far each run's edges move in), and 1 - 2δ as ".dddd"."""
    delta = max(1, round(10_000 / (64 * module_dots)))
    return delta / 10_000, f".{10_000 - 2 * delta:04d}"


def vector_paths(matrices: NDArray[np.bool_], module_dots: int) -> list[bytes]:
    """Return each code's path operators: "x y w h re" per run of dark modules, in modules, y up, then one fill.

    Each run's edges move in by a 64th of a dot (inset; the page shifts the form by δ, so x and y stay integers).
    On a dot boundary exactly, a renderer that paints every pixel a shape touches (poppler and mupdf without
    anti-aliasing, as CUPS drives thermal printers) paints one dot more wherever rounding lands an edge a hair
    beyond it. A 64th of a dot moves no pixel centre at up to 16 times the resolution, and the 32nd of a dot
    between stacked runs never shows.
    """
    count, size, _ = matrices.shape
    left = np.zeros_like(matrices)
    left[:, :, 1:] = matrices[:, :, :-1]
    right = np.zeros_like(matrices)
    right[:, :, :-1] = matrices[:, :, 1:]
    # Flat indices (in order: runs grouped by code, in reading order) are several times faster than 3-D ones.
    starts = np.flatnonzero(matrices & ~left)
    code, within = np.divmod(starts, size * size)
    row, start = np.divmod(within, size)
    end = np.flatnonzero(matrices & ~right) % size + 1
    width = len(str(size)) + 1
    digits = _numbers(width, size + 1)
    rest = inset(module_dots)[1].encode()
    tail = np.frombuffer(rest + b" " + rest + b" re\n", np.uint8)
    record = 3 * width + len(tail)
    text = np.empty((len(code), record), np.uint8)  # "x y w-2δ 1-2δ re"; the page moves the form by (δ, δ)
    text[:, 0:width] = digits.take(start, axis=0)
    text[:, width : 2 * width] = digits.take(size - 1 - row, axis=0)
    text[:, 2 * width : 3 * width] = digits.take(end - start - 1, axis=0)  # the whole modules of w - 2δ, .dddd
    text[:, 3 * width :] = tail
    blob = text.tobytes()
    ends = (np.cumsum(np.bincount(code, minlength=count)) * record).tolist()
    paths, begin = [], 0
    for finish in ends:
        paths.append(blob[begin:finish] + b"f")
        begin = finish
    return paths


def form_object(number: int, path: bytes, side: int, margin: int, level: int | None = None) -> bytes:
    """Return a Form XObject drawing a path in a side × side box of its units.

    The box (a clip) reaches margin units beyond the code: mupdf rounds a clip that ends exactly on a dot
    boundary inwards and would drop the last column of dots.
    """
    data = zlib.compress(path, VECTOR_LEVEL if level is None else level)
    box = f"[{-margin} {-margin} {side + margin} {side + margin}]"
    entries = f"/Type /XObject /Subtype /Form /BBox {box} /Filter /FlateDecode"
    return indirect_object(number, stream_body(entries, data))


def mask_object(number: int, matrix: NDArray[np.bool_], pixels_per_module: int) -> bytes:
    """Return a 1-bit image mask XObject (1 = dark, painted in the fill colour), never interpolated."""
    if pixels_per_module > 1:
        matrix = np.repeat(np.repeat(matrix, pixels_per_module, axis=0), pixels_per_module, axis=1)
    side = matrix.shape[0]
    data = np.packbits(matrix, axis=-1).tobytes()  # rows padded to whole bytes, as image data requires
    entries = (
        f"/Type /XObject /Subtype /Image /Width {side} /Height {side} /ImageMask true "
        "/BitsPerComponent 1 /Decode [1 0] /Interpolate false"
    )
    return indirect_object(number, stream_body(entries, data, compress=pixels_per_module > 1))


def xobjects(first: int, matrices: NDArray[np.bool_], drawing: str, module_dots: int) -> list[bytes]:
    """Return one XObject per code, numbered from first."""
    size = matrices.shape[-1]
    if drawing == "vector":
        return [form_object(first + i, path, size, 1) for i, path in enumerate(vector_paths(matrices, module_dots))]
    per_module = module_dots if drawing == "image" else 1
    return [mask_object(first + i, matrix, per_module) for i, matrix in enumerate(matrices)]


def placement(drawing: str, size: int, module_pt: float, module_dots: int) -> tuple[float, float]:
    """Return the scale the page applies to an XObject (one module a form unit, or the whole image) and its shift.

    A form's runs are inset by δ on the left and bottom by moving the whole form by δ modules.
    """
    if drawing == "vector":
        return module_pt, inset(module_dots)[0] * module_pt
    return size * module_pt, 0.0
