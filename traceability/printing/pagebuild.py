"""Build the PDF objects of a run of sheets: the part of printing that runs in worker processes.

A job carries everything it needs (plain values, picklable) and returns finished bytes, so the parent only
concatenates them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from traceability.printing.fonts import BOLD, REGULAR, FontFace, load_face
from traceability.printing.layouts import LINE_HEIGHT, MM, Layout
from traceability.printing.pdfwriter import indirect_object, pdf_number, stream_body
from traceability.printing.qrbatch import encode_batch

# Object numbers fixed for every file: the page tree and the two fonts (see sheets.py).
PAGES_OBJECT = 2
FONT_OBJECTS = (3, 4)  # /F1 DejaVu Sans, /F2 DejaVu Sans Bold
FONT_PATHS = (REGULAR, BOLD)
STAR = "\u2605"
MIN_TEXT_PT = 3.0
INFO_PT = 7.0

StampRow = tuple[str, str, int, str]  # serial, digits, stars, label


@dataclass(frozen=True)
class PageJob:
    """A run of consecutive sheets to build, with the numbering it must use."""

    layout: Layout
    batch_label: str
    prefix: str
    ecc: str
    version: int
    module_mm: float
    total_sheets: int
    first_sheet: int  # 1-based number of this job's first sheet
    first_object: int
    stamps: tuple[StampRow, ...]


@dataclass(frozen=True)
class PageChunk:
    """Serialised objects of consecutive numbers, ready to append to the file."""

    first_object: int
    data: bytes
    offsets: tuple[int, ...]
    page_objects: tuple[int, ...]
    glyphs: tuple[dict[int, str], ...]  # per font: glyph id -> the text it shows
    stamps: int


def objects_per_sheet(stamps_on_sheet: int) -> int:
    """Return how many objects a sheet uses: page, content stream, one image per stamp."""
    return 2 + stamps_on_sheet


@dataclass
class Typesetter:
    """Turn text into hex glyph strings and widths, recording which glyphs the document uses."""

    faces: tuple[FontFace, ...]
    used: tuple[dict[int, str], ...] = field(init=False)
    _runs: dict[tuple[int, str], tuple[str, float]] = field(init=False, default_factory=dict)
    _lines: dict[tuple[object, ...], str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.used = tuple({} for _ in self.faces)

    def run(self, font: int, text: str) -> tuple[str, float]:
        """Return the <hex> glyph string of text in a font and its width in ems."""
        key = (font, text)
        hit = self._runs.get(key)
        if hit is None:
            normal = text if text.isascii() else unicodedata.normalize("NFC", text)
            face = self.faces[font]
            gids = face.glyph_ids(normal)
            used = self.used[font]
            for gid, char in zip(gids, normal, strict=True):
                used.setdefault(gid, char)
            hit = ("<" + "".join(f"{g:04X}" for g in gids) + ">", face.width_em(gids))
            if len(self._runs) < 4096:  # serials never repeat; labels and stars do
                self._runs[key] = hit
        return hit

    def line(self, runs: list[tuple[int, str]], size: float, x: float, y: float, align: str = "left") -> str:
        """Return text operators drawing runs on one baseline at (x, y) pt, left, centre or right aligned."""
        shaped = [(font, *self.run(font, text)) for font, text in runs]
        width = sum(w for _, _, w in shaped) * size
        start = x - {"left": 0.0, "centre": width / 2, "right": width}[align]
        ops = [f"BT {pdf_number(start)} {pdf_number(y)} Td"]
        for font, hexed, _ in shaped:
            ops.append(f"/F{font + 1} {pdf_number(size)} Tf {hexed} Tj")
        ops.append("ET")
        return " ".join(ops)

    def fitted_line(self, runs: list[tuple[int, str]], nominal: float, room_pt: float, x: float, y: float) -> str:
        """Return a centred line at the nominal size, or smaller so that it fits into room_pt."""
        key = (tuple(runs), nominal, room_pt, x, y)
        hit = self._lines.get(key)
        if hit is None:
            hit = self.line(runs, self.fitted_size(runs, nominal, room_pt), x, y, "centre")
            if len(self._lines) < 4096:
                self._lines[key] = hit
        return hit

    def fitted_size(self, runs: list[tuple[int, str]], nominal: float, room_pt: float) -> float:
        """Return the nominal size, or the smaller size at which runs fit into room_pt."""
        width_em = sum(self.run(font, text)[1] for font, text in runs)
        return nominal if width_em * nominal <= room_pt else room_pt / width_em


def _fit_label(setter: Typesetter, label: str, nominal: float, room_pt: float) -> tuple[str, float]:
    """Return the label (shortened with an ellipsis only if even MIN_TEXT_PT is too wide) and its size."""
    size = setter.fitted_size([(0, label)], nominal, room_pt)
    text = label
    while size < MIN_TEXT_PT and len(text) > 1:
        text = text[:-1]
        size = setter.fitted_size([(0, text.rstrip() + "…")], nominal, room_pt)
    if text != label:
        text = text.rstrip() + "…"
    return text, max(size, min(MIN_TEXT_PT, nominal))


@lru_cache(maxsize=8)
def crop_marks(layout: Layout) -> str:
    """Return the stroke operators of the crop marks of a full sheet (same on every sheet)."""
    grid = layout.grid
    offset, length = 1.5, 4.0
    xs = sorted({b.x for b in map(layout.stamp_box, range(layout.columns))}
                | {b.x + b.width for b in map(layout.stamp_box, range(layout.columns))})  # fmt: skip
    ys = sorted({layout.stamp_box(r * layout.columns).y for r in range(layout.rows)}
                | {layout.stamp_box(r * layout.columns).y + layout.stamp_mm for r in range(layout.rows)})  # fmt: skip
    segments = []
    top, bottom = grid.y + grid.height, grid.y
    left, right = grid.x, grid.x + grid.width
    for x in xs:
        segments.append((x, top + offset, x, top + offset + length))
        segments.append((x, bottom - offset, x, bottom - offset - length))
    for y in ys:
        segments.append((left - offset, y, left - offset - length, y))
        segments.append((right + offset, y, right + offset + length, y))
    ops = ["q 0.25 w 0 G"]
    for x0, y0, x1, y1 in segments:
        ops.append(f"{pdf_number(x0 * MM)} {pdf_number(y0 * MM)} m {pdf_number(x1 * MM)} {pdf_number(y1 * MM)} l")
    ops.append("S Q")
    return "\n".join(ops)


@dataclass(frozen=True)
class StampGeometry:
    """Where the parts of the stamp at one position go, in points."""

    qr_matrix: str  # the "cm" operands mapping the image's unit square onto the code
    centre: float
    baselines: tuple[float, float, float]
    room: float  # width a text line may take


@lru_cache(maxsize=512)
def stamp_geometry(layout: Layout, module_mm: float, size: int, position: int) -> StampGeometry:
    """Return the geometry of a stamp: the QR (with quiet zone) at the top, three text lines under it."""
    box = layout.stamp_box(position)
    quiet = layout.quiet_zone_modules * module_mm
    span = size * module_mm + 2 * quiet
    top = box.y + box.height - (box.height - span - layout.text_block_mm) / 2
    qr_x = box.x + (box.width - span) / 2 + quiet
    qr_y = top - quiet - size * module_mm
    side = pdf_number(size * module_mm * MM)
    line = layout.text_pt * LINE_HEIGHT
    first = (top - span) * MM - layout.text_pt  # the first line's capitals sit just under the quiet zone
    return StampGeometry(
        qr_matrix=f"{side} 0 0 {side} {pdf_number(qr_x * MM)} {pdf_number(qr_y * MM)}",
        centre=(box.x + box.width / 2) * MM,
        baselines=(first, first - line, first - 2 * line),
        room=box.width * 0.92 * MM,
    )


def _stamp_ops(setter: Typesetter, geometry: StampGeometry, nominal: float, image: str, stamp: StampRow) -> str:
    """Return the operators drawing one stamp: QR image mask, OCOP and stars, label, serial."""
    serial, _, stars, label = stamp
    centre, (first, second, third), room = geometry.centre, geometry.baselines, geometry.room
    heading = setter.fitted_line([(1, "OCOP "), (0, STAR * stars)], nominal, room, centre, first)
    text, label_size = _fit_label(setter, label, nominal, room)
    label_line = setter.fitted_line([(0, text)], label_size, room, centre, second)
    serial_line = setter.fitted_line([(0, serial)], nominal, room, centre, third)
    return f"q {geometry.qr_matrix} cm /{image} Do Q\n{heading}\n{label_line}\n{serial_line}"


def _sheet_info(setter: Typesetter, layout: Layout, job: PageJob, sheet: int, rows: list[StampRow]) -> str:
    """Return the margin text that lets a printing house check the run: layout, batch, sheet, serials."""
    grid = layout.grid
    first_baseline = (layout.page_height_mm - 8.0) * MM
    left, right = grid.x * MM, (grid.x + grid.width) * MM
    head = [(1, "OCOP"), (0, f"  ·  batch {job.batch_label}  ·  layout {layout.name}")]
    serials = [(0, f"serials {rows[0][0]} – {rows[-1][0]}  ·  {len(rows)} stamps")]
    sheet_text = [(1, f"sheet {sheet}/{job.total_sheets}")]
    return "\n".join((
        setter.line(head, INFO_PT, left, first_baseline),
        setter.line(serials, INFO_PT, left, first_baseline - INFO_PT * LINE_HEIGHT),
        setter.line(sheet_text, INFO_PT + 2, right, first_baseline, "right"),
    ))  # fmt: skip


def _image_object(number: int, rows: NDArray[np.uint8], size: int) -> bytes:
    """Return a 1-bit image mask XObject (1 = dark, painted in the fill colour), never interpolated."""
    entries = (
        f"/Type /XObject /Subtype /Image /Width {size} /Height {size} /ImageMask true "
        "/BitsPerComponent 1 /Decode [1 0] /Interpolate false"
    )
    return indirect_object(number, stream_body(entries, rows.tobytes()))


def page_dict(layout: Layout, content: int, images: list[tuple[str, int]]) -> bytes:
    """Return the body of a page object."""
    xobjects = " ".join(f"/{name} {number} 0 R" for name, number in images)
    fonts = " ".join(f"/F{i + 1} {number} 0 R" for i, number in enumerate(FONT_OBJECTS))
    media = f"[0 0 {pdf_number(layout.page_width_mm * MM)} {pdf_number(layout.page_height_mm * MM)}]"
    return (
        f"<< /Type /Page /Parent {PAGES_OBJECT} 0 R /MediaBox {media} "
        f"/Resources << /Font << {fonts} >> /XObject << {xobjects} >> >> /Contents {content} 0 R >>"
    ).encode("ascii")


def build_pages(job: PageJob) -> PageChunk:
    """Encode the job's QR codes and serialise its sheets (page, content stream, one image per stamp)."""
    layout = job.layout
    setter = Typesetter(tuple(load_face(path) for path in FONT_PATHS))
    prefix = job.prefix.encode("ascii")
    matrices = encode_batch(prefix, [s[1] for s in job.stamps], ecc=job.ecc, version=job.version)
    size = matrices.shape[-1]
    packed = np.packbits(matrices, axis=-1)  # rows padded to whole bytes, as image data requires
    parts: list[bytes] = []
    offsets: list[int] = []
    page_objects: list[int] = []
    position = 0
    number = job.first_object

    def emit(data: bytes) -> None:
        nonlocal position, number
        parts.append(data)
        offsets.append(position)
        position += len(data)
        number += 1

    for index, start in enumerate(range(0, len(job.stamps), layout.per_sheet)):
        rows = list(job.stamps[start : start + layout.per_sheet])
        page, content = number, number + 1
        images = [(f"Q{i}", content + 1 + i) for i in range(len(rows))]
        ops = []
        if layout.sheet_info:
            ops.append(_sheet_info(setter, layout, job, job.first_sheet + index, rows))
        if layout.crop_marks:
            ops.append(crop_marks(layout))
        for i, stamp in enumerate(rows):
            geometry = stamp_geometry(layout, job.module_mm, size, i)
            ops.append(_stamp_ops(setter, geometry, layout.text_pt, images[i][0], stamp))
        page_objects.append(page)
        emit(indirect_object(page, page_dict(layout, content, images)))
        emit(indirect_object(content, stream_body("", "\n".join(ops).encode("ascii"), compress=True)))
        for i, (_, image_number) in enumerate(images):
            emit(_image_object(image_number, packed[start + i], size))
    return PageChunk(
        first_object=job.first_object,
        data=b"".join(parts),
        offsets=tuple(offsets),
        page_objects=tuple(page_objects),
        glyphs=setter.used,
        stamps=len(job.stamps),
    )


def build_ticket(layout: Layout, batch_label: str, count: int, first_serial: str, number: int) -> PageChunk:
    """Return a text-only first page describing the run, for layouts without margins (label rolls)."""
    setter = Typesetter(tuple(load_face(path) for path in FONT_PATHS))
    width, height = layout.page_width_mm * MM, layout.page_height_mm * MM
    lines = [
        ([(1, "OCOP run ticket")], 1.0),
        ([(0, "not a stamp")], 0.85),
        ([(0, f"batch {batch_label}")], 1.0),
        ([(0, f"layout {layout.name}")], 1.0),
        ([(0, f"{count} stamps")], 1.0),
        ([(0, "first serial")], 0.85),
        ([(0, first_serial)], 1.0),
    ]
    room = width * 0.9
    ops = []
    y = height - 2 * MM - layout.text_pt
    for runs, scale in lines:
        size = setter.fitted_size(runs, layout.text_pt * scale, room)
        ops.append(setter.line(runs, size, width / 2, y, "centre"))
        y -= layout.text_pt * LINE_HEIGHT
    content = stream_body("", "\n".join(ops).encode("ascii"), compress=True)
    page = indirect_object(number, page_dict(layout, number + 1, []))
    data = page + indirect_object(number + 1, content)
    return PageChunk(number, data, (0, len(page)), (number,), setter.used, 0)
