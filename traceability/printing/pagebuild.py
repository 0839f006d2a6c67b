"""Build the PDF objects of a run of sheets: the part of printing that runs in worker processes.

A job carries everything it needs (plain values, picklable) and returns finished bytes, so the parent only
concatenates them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from traceability.printing.fonts import FontFace, load_faces
from traceability.printing.layouts import LINE_HEIGHT, MM, Layout
from traceability.printing.pdfwriter import indirect_object, pdf_number, stream_body
from traceability.printing.qrbatch import encode_batch
from traceability.printing.qrdraw import placement, xobjects
from traceability.printing.sheettext import sheet_text
from traceability.printing.sizing import LabelPlan, dot_mm

# Object numbers fixed for every file: the page tree and the two fonts (see sheets.py).
PAGES_OBJECT = 2
FONT_OBJECTS = (3, 4)  # /F1 the regular face, /F2 the bold one (fonts.FontFiles)
STAR = "\u2605"
MIN_TEXT_PT = 3.0
INFO_PT = 7.0
SCRATCH_LINE_PT = 0.5

StampRow = tuple[str, str, int, str]  # serial, digits, stars, label


@dataclass(frozen=True)
class PageJob:
    """A run of consecutive sheets to build, with the numbering it must use."""

    layout: Layout
    fonts: tuple[str, ...]  # font files, in FONT_OBJECTS order
    batch_label: str
    prefix: str
    ecc: str
    version: int
    plan: LabelPlan
    drawing: str  # qrdraw.DRAWINGS
    language: str  # sheettext.LANGUAGES
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
    """Return how many objects a sheet uses: page, content stream, one XObject per stamp."""
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
    boxes = [layout.stamp_box(i) for i in range(layout.columns)]
    rows = [layout.stamp_box(r * layout.columns) for r in range(layout.rows)]
    xs = sorted({b.x for b in boxes} | {b.x + b.width for b in boxes})
    ys = sorted({b.y for b in rows} | {b.y + b.height for b in rows})
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


@lru_cache(maxsize=16)
def page_size_pt(layout: Layout) -> tuple[float, float]:
    """Return the page's width and height in points, each a whole number of the printer's dots (as written).

    Renderers anchor their pixel grid at the top of the page or at its bottom (poppler rounds the page height
    up and counts from the bottom): only when the height is whole dots do both grids put the code's edges on
    dot boundaries. A4 becomes 210.02 × 297.01 mm at 600 dpi, well within any printer's tolerance.
    """
    dots_w = round(layout.page_width_mm / dot_mm(layout.dpi))
    dots_h = round(layout.page_height_mm / dot_mm(layout.dpi))
    return float(pdf_number(dots_w * 72 / layout.dpi)), float(pdf_number(dots_h * 72 / layout.dpi))


@dataclass(frozen=True)
class StampGeometry:
    """Where the parts of the stamp at one position go, in points."""

    qr_x: float  # bottom-left corner of the symbol (quiet zone excluded), on the printer's dot grid
    qr_y: float
    centre: float
    baselines: tuple[float, float, float]
    room: float  # width a text line may take
    scratch: str = ""  # the operators outlining the scratch-off box, if the label keeps one


@lru_cache(maxsize=512)
def stamp_geometry(layout: Layout, plan: LabelPlan, position: int) -> StampGeometry:
    """Return the geometry of a stamp, its symbol's corner snapped to whole printer dots from the page's top left."""
    box = layout.stamp_box(position)
    dot = dot_mm(plan.dpi)
    dot_pt = 72 / plan.dpi
    quiet = plan.quiet_modules * plan.module_mm
    label_top = layout.page_height_mm - (box.y + box.height)  # from the top of the page
    left_dots = round((box.x + plan.code.left + quiet) / dot)
    top_dots = round((label_top + plan.code.top + quiet) / dot)
    bottom_dots = top_dots + plan.symbol_modules * plan.module_dots
    line = plan.text_pt * LINE_HEIGHT
    first = (box.y + box.height - plan.text.top) * MM - plan.text_pt  # capitals just under the quiet zone
    outline = ""
    if plan.scratch is not None:
        area = plan.scratch
        x, y = (box.x + area.left) * MM, (box.y + box.height - area.top - area.height) * MM
        corners = " ".join(pdf_number(v) for v in (x, y, area.width * MM, area.height * MM))
        # Dashed, so the printing house sees the place of the hidden code and its foil; nothing is printed inside.
        outline = f"q {pdf_number(SCRATCH_LINE_PT)} w [1.5 1] 0 d 0 G {corners} re S Q"
    return StampGeometry(
        qr_x=left_dots * dot_pt,
        qr_y=page_size_pt(layout)[1] - bottom_dots * dot_pt,
        centre=(box.x + plan.text.left + plan.text.width / 2) * MM,
        baselines=(first, first - line, first - 2 * line),
        room=plan.text.width * 0.94 * MM,
        scratch=outline,
    )


def _stamp_ops(
    setter: Typesetter, geometry: StampGeometry, scale: str, shift: float, nominal: float, image: str, stamp: StampRow
) -> str:
    """Return the operators drawing one stamp: the QR XObject, OCOP and stars, label, serial."""
    serial, _, stars, label = stamp
    centre, (first, second, third), room = geometry.centre, geometry.baselines, geometry.room
    heading = setter.fitted_line([(1, "OCOP "), (0, STAR * stars)], nominal, room, centre, first)
    text, label_size = _fit_label(setter, label, nominal, room)
    label_line = setter.fitted_line([(0, text)], label_size, room, centre, second)
    serial_line = setter.fitted_line([(0, serial)], nominal, room, centre, third)
    place = f"{scale} 0 0 {scale} {geometry.qr_x + shift:.5f} {geometry.qr_y + shift:.5f}"
    ops = f"q {place} cm /{image} Do Q\n{heading}\n{label_line}\n{serial_line}"
    return f"{ops}\n{geometry.scratch}" if geometry.scratch else ops


def _sheet_info(setter: Typesetter, layout: Layout, job: PageJob, sheet: int, rows: list[StampRow]) -> str:
    """Return the margin text that lets a printing house check the run: layout, batch, sheet, serials."""
    grid, language = layout.grid, job.language
    first_baseline = (layout.page_height_mm - 8.0) * MM
    left, right = grid.x * MM, (grid.x + grid.width) * MM
    batch = sheet_text(language, "batch", batch=job.batch_label)
    head = [(1, "OCOP"), (0, f"  ·  {batch}  ·  {sheet_text(language, 'layout', layout=layout.name)}")]
    serials = sheet_text(language, "serials", first=rows[0][0], last=rows[-1][0])
    count = sheet_text(language, "stamps", count=len(rows))
    sheet_line = [(1, sheet_text(language, "sheet", sheet=sheet, total=job.total_sheets))]
    return "\n".join((
        setter.line(head, INFO_PT, left, first_baseline),
        setter.line([(0, f"{serials}  ·  {count}")], INFO_PT, left, first_baseline - INFO_PT * LINE_HEIGHT),
        setter.line(sheet_line, INFO_PT + 2, right, first_baseline, "right"),
    ))  # fmt: skip


def page_dict(layout: Layout, content: int, images: list[tuple[str, int]]) -> bytes:
    """Return the body of a page object; the sheet is the finished piece, so trim and bleed are the page."""
    xobjects = " ".join(f"/{name} {number} 0 R" for name, number in images)
    fonts = " ".join(f"/F{i + 1} {number} 0 R" for i, number in enumerate(FONT_OBJECTS))
    width, height = page_size_pt(layout)
    media = f"[0 0 {pdf_number(width)} {pdf_number(height)}]"
    return (
        f"<< /Type /Page /Parent {PAGES_OBJECT} 0 R /MediaBox {media} /BleedBox {media} /TrimBox {media} "
        f"/Resources << /Font << {fonts} >> /XObject << {xobjects} >> >> /Contents {content} 0 R >>"
    ).encode("ascii")


def build_pages(job: PageJob) -> PageChunk:
    """Encode the job's QR codes and serialise its sheets (page, content stream, one XObject per stamp)."""
    layout, plan = job.layout, job.plan
    setter = Typesetter(load_faces(job.fonts))
    prefix = job.prefix.encode("ascii")
    matrices = encode_batch(prefix, [s[1] for s in job.stamps], ecc=job.ecc, version=job.version)
    unit, shift = placement(job.drawing, matrices.shape[-1], plan.module_pt, plan.module_dots)
    # Six decimals: at 203 dpi three would let a 41-module code drift by a good part of a dot.
    scale = f"{unit:.6f}".rstrip("0")
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
            geometry = stamp_geometry(layout, plan, i)
            ops.append(_stamp_ops(setter, geometry, scale, shift, plan.text_pt, images[i][0], stamp))
        page_objects.append(page)
        emit(indirect_object(page, page_dict(layout, content, images)))
        emit(indirect_object(content, stream_body("", "\n".join(ops).encode("ascii"), compress=True)))
        drawn = xobjects(images[0][1], matrices[start : start + len(rows)], job.drawing, plan.module_dots)
        for data in drawn:
            emit(data)
    return PageChunk(
        first_object=job.first_object,
        data=b"".join(parts),
        offsets=tuple(offsets),
        page_objects=tuple(page_objects),
        glyphs=setter.used,
        stamps=len(job.stamps),
    )


@dataclass(frozen=True)
class Ticket:
    """What a run ticket says."""

    batch_label: str
    count: int
    first_serial: str
    language: str


def build_ticket(layout: Layout, fonts: tuple[str, ...], ticket: Ticket, number: int) -> PageChunk:
    """Return a text-only first page describing the run, for layouts without margins (label rolls)."""
    setter = Typesetter(load_faces(fonts))
    width, height = page_size_pt(layout)
    language = ticket.language
    lines = [
        ([(1, sheet_text(language, "ticket"))], 1.0),
        ([(0, sheet_text(language, "not_a_stamp"))], 0.85),
        ([(0, sheet_text(language, "batch", batch=ticket.batch_label))], 1.0),
        ([(0, sheet_text(language, "layout", layout=layout.name))], 1.0),
        ([(0, sheet_text(language, "stamps", count=ticket.count))], 1.0),
        ([(0, sheet_text(language, "first_serial"))], 0.85),
        ([(0, ticket.first_serial)], 1.0),
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
