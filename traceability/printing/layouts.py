"""Label stock as data: page, label size, grid, margins, gaps, corners, and the printer's resolution.

Lengths are millimetres. PDF coordinates start at the bottom-left corner of the page; positions on a sheet are
numbered from the top-left label, row by row, as a person reads the sheet. The three named layouts are here;
gLabels' product templates and custom sizes become Layouts in stock.py, and sizing.py places the QR code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from traceability.errors import ValidationError
from traceability.i18n import N_

MM = 72 / 25.4  # PDF points per millimetre
LINE_HEIGHT = 1.2  # baseline-to-baseline distance in font sizes
STAMP_TEXT_LINES = 3  # "OCOP ★★★★", the label, the serial
NAME_LENGTH = 40  # batches.layout and print_jobs.layout are String(40)
# Sheets go to office lasers and inkjets (300, 600, 1,200 dpi) and to offset platesetters (2,400): a module
# and a position that are whole 300-dpi dots are whole dots on all of them. Label rolls say 203 themselves.
DEFAULT_DPI = 300


class LayoutInvalid(ValidationError):
    """A label stock whose numbers cannot describe real labels on a real page."""

    code = "layout_invalid"


@dataclass(frozen=True)
class Box:
    """A rectangle in millimetres from the bottom-left corner of the page."""

    x: float
    y: float
    width: float
    height: float


def _invalid(message: str, **params: object) -> LayoutInvalid:
    return LayoutInvalid(message, field="layout", params=params)


def _mm(value: float) -> str:
    """Return a length for messages: at most two decimals, no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Layout:
    """One kind of label stock: labels in a grid on a page, and the printer's resolution."""

    name: str  # what batches and print jobs store: a named layout, a template or a custom size, "@dpi" if not default
    page_width_mm: float
    page_height_mm: float
    label_width_mm: float
    label_height_mm: float
    columns: int
    rows: int
    margin_left_mm: float
    margin_top_mm: float
    gap_x_mm: float = 0.0
    gap_y_mm: float = 0.0
    corner_radius_mm: float = 0.0
    round: bool = False  # a round label (its diameter is the width); else a rectangle with corner_radius_mm
    crop_marks: bool = False  # plain paper cut after printing; die-cut stock needs none
    text_pt: float = 6.5  # nominal size of the text lines; sizing.py may shrink it to make room for the code
    inset_mm: float = 0.0  # a margin inside each label kept clear (gLabels' markup margin)
    dpi: int = DEFAULT_DPI  # the printer's resolution: modules and the code's position are whole dots of it
    sheet_info: bool = True  # layout, batch, "sheet k/N" and serial range in the top margin
    run_ticket: bool = False  # one extra first page describing the run, for media without margins
    title: str = ""  # what the batch request form calls it: an English msgid, translated where shown
    scratch_box_mm: tuple[float, float] | None = None  # width, height kept free on each label for a scratch-off code
    quiet_zone_modules: int = 4

    def __post_init__(self) -> None:
        """Reject numbers that cannot be label stock: labels off the page or overlapping, nonsense sizes."""
        sizes = (self.page_width_mm, self.page_height_mm, self.label_width_mm, self.label_height_mm)
        if min(sizes) <= 0 or self.columns < 1 or self.rows < 1:
            raise _invalid(N_("label stock needs a page, labels of a positive size and at least one row and column"))
        if min(self.margin_left_mm, self.margin_top_mm, self.gap_x_mm, self.gap_y_mm, self.inset_mm) < 0:
            raise _invalid(N_("margins, gaps and the inner margin of a label cannot be negative"))
        if self.round and abs(self.label_width_mm - self.label_height_mm) > 1e-6:
            raise _invalid(N_("a round label has one diameter: its width and height must be equal"))
        if not 0 <= self.corner_radius_mm <= min(self.label_width_mm, self.label_height_mm) / 2 + 1e-9:
            raise _invalid(
                N_("a corner radius of %(radius)s mm does not fit labels of %(width)s × %(height)s mm"),
                radius=_mm(self.corner_radius_mm),
                width=_mm(self.label_width_mm),
                height=_mm(self.label_height_mm),
            )
        if not 100 <= self.dpi <= 4800:
            raise _invalid(N_("a printer resolution must be between 100 and 4800 dpi, not %(dpi)s"), dpi=self.dpi)
        grid = self.grid
        right, bottom = grid.x + grid.width, self.margin_top_mm + grid.height
        if right > self.page_width_mm + 1e-6 or bottom > self.page_height_mm + 1e-6:
            raise _invalid(
                N_(
                    "%(columns)s × %(rows)s labels of %(width)s × %(height)s mm with these margins and gaps take"
                    " %(need_w)s × %(need_h)s mm, more than the %(page_w)s × %(page_h)s mm page"
                ),
                columns=self.columns,
                rows=self.rows,
                width=_mm(self.label_width_mm),
                height=_mm(self.label_height_mm),
                need_w=_mm(right),
                need_h=_mm(bottom),
                page_w=_mm(self.page_width_mm),
                page_h=_mm(self.page_height_mm),
            )
        if len(self.name) > NAME_LENGTH:
            raise _invalid(N_("a layout name has at most %(length)s characters"), length=NAME_LENGTH)

    @property
    def orientation(self) -> str:
        """Return "landscape" if the page is wider than tall, else "portrait"."""
        return "landscape" if self.page_width_mm > self.page_height_mm else "portrait"

    @property
    def per_sheet(self) -> int:
        """Return the number of labels on a full sheet."""
        return self.columns * self.rows

    def sheets_for(self, count: int) -> int:
        """Return the number of sheets needed for count stamps."""
        return max(1, math.ceil(count / self.per_sheet))

    def stamp_box(self, position: int) -> Box:
        """Return the box of the label at a 0-based position on the sheet."""
        row, column = divmod(position, self.columns)
        x = self.margin_left_mm + column * (self.label_width_mm + self.gap_x_mm)
        top = self.margin_top_mm + row * (self.label_height_mm + self.gap_y_mm)
        return Box(x, self.page_height_mm - top - self.label_height_mm, self.label_width_mm, self.label_height_mm)

    @property
    def grid(self) -> Box:
        """Return the box around all labels of a full sheet."""
        width = self.columns * self.label_width_mm + (self.columns - 1) * self.gap_x_mm
        height = self.rows * self.label_height_mm + (self.rows - 1) * self.gap_y_mm
        return Box(self.margin_left_mm, self.page_height_mm - self.margin_top_mm - height, width, height)

    @property
    def base_name(self) -> str:
        """Return the name without the printer's resolution."""
        return self.name.split("@", 1)[0]

    def at_dpi(self, dpi: int | None) -> Layout:
        """Return this stock (as defined, at its default dpi) for a printer of dpi; the name says a non-default dpi."""
        if dpi is None or dpi == self.dpi:
            return self
        return replace(self, dpi=dpi, name=f"{self.base_name}@{dpi}")


A4_WIDTH, A4_HEIGHT = 210.0, 297.0

# 6 x 8 stamps of 30 mm with 2 mm cutting gaps: 190 x 254 mm, centred across, ~21 mm top margin for the
# run information, and at least 10 mm all round because office and offset printers cannot print to the edge.
A4_30MM = Layout(
    name="a4-30mm",
    title=N_("A4 sheet, 48 stamps of 30 mm"),
    page_width_mm=A4_WIDTH,
    page_height_mm=A4_HEIGHT,
    label_width_mm=30.0,
    label_height_mm=30.0,
    columns=6,
    rows=8,
    margin_left_mm=10.0,
    margin_top_mm=22.5,
    gap_x_mm=2.0,
    gap_y_mm=2.0,
    crop_marks=True,
)

# 8 x 12 stamps of 20 mm. Kept so that batches that asked for it still name a known layout, but a 20 mm label
# cannot hold a version-6 code at the smallest module printed (sizing.MIN_MODULE_MM): printing it is refused
# with LabelTooSmall, and the request form no longer offers it.
A4_20MM = Layout(
    name="a4-20mm",
    title=N_("A4 sheet, 96 stamps of 20 mm"),
    page_width_mm=A4_WIDTH,
    page_height_mm=A4_HEIGHT,
    label_width_mm=20.0,
    label_height_mm=20.0,
    columns=8,
    rows=12,
    margin_left_mm=18.0,
    margin_top_mm=19.0,
    gap_x_mm=2.0,
    gap_y_mm=2.0,
    crop_marks=True,
    text_pt=4.5,
)

# Thermal-transfer label printers (Zebra, TSC, Godex…) feed die-cut labels and re-synchronise on the gap
# sensor at each page: their drivers expect one PDF page per label, sized exactly like the label. A strip of
# several labels on one page would drift across the gaps. Labels have no margin, so the run information goes
# on one leading "run ticket" label instead of on each page. Most such printers print at 203 dpi.
ROLL_30MM = Layout(
    name="roll-30mm",
    title=N_("Label printer roll, 30 mm labels"),
    page_width_mm=30.0,
    page_height_mm=30.0,
    label_width_mm=30.0,
    label_height_mm=30.0,
    columns=1,
    rows=1,
    margin_left_mm=0.0,
    margin_top_mm=0.0,
    sheet_info=False,
    run_ticket=True,
    dpi=203,
)

LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in (A4_30MM, A4_20MM, ROLL_30MM)}


def get_layout(name: str) -> Layout:
    """Return the named layout, or raise KeyError listing the known ones."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise KeyError(f"unknown layout {name!r}; known: {', '.join(sorted(LAYOUTS))}") from None
