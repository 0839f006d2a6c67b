"""Named sheet geometries for printing stamps, in millimetres.

PDF coordinates start at the bottom-left corner of the page; positions on a sheet are numbered from the
top-left stamp, row by row, as a person reads the sheet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from traceability.i18n import N_

MM = 72 / 25.4  # PDF points per millimetre
LINE_HEIGHT = 1.2  # baseline-to-baseline distance in font sizes
STAMP_TEXT_LINES = 3  # "OCOP ★★★★", the label, the serial


@dataclass(frozen=True)
class Box:
    """A rectangle in millimetres from the bottom-left corner of the page."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Layout:
    """Geometry of one kind of sheet of square stamps."""

    name: str
    page_width_mm: float
    page_height_mm: float
    stamp_mm: float
    columns: int
    rows: int
    margin_left_mm: float
    margin_top_mm: float
    gap_mm: float
    crop_marks: bool
    text_pt: float  # nominal size of the three text lines under the QR; long lines shrink to fit
    module_mm: float = 0.33  # 4 dots at 300 dpi (0.3387 mm) rounded down, as the stamp format asks
    quiet_zone_modules: int = 4
    sheet_info: bool = True  # layout, batch, "sheet k/N" and serial range in the top margin
    run_ticket: bool = False  # one extra first page describing the run, for media without margins
    title: str = ""  # what the batch request form calls it: an English msgid, translated where shown

    def __post_init__(self) -> None:
        """Reject a geometry whose stamps leave the page."""
        right = self.margin_left_mm + self.columns * self.stamp_mm + (self.columns - 1) * self.gap_mm
        bottom = self.margin_top_mm + self.rows * self.stamp_mm + (self.rows - 1) * self.gap_mm
        if right > self.page_width_mm + 1e-9 or bottom > self.page_height_mm + 1e-9:
            raise ValueError(f"layout {self.name}: stamps do not fit on the page")

    @property
    def per_sheet(self) -> int:
        """Return the number of stamps on a full sheet."""
        return self.columns * self.rows

    def sheets_for(self, count: int) -> int:
        """Return the number of sheets needed for count stamps."""
        return max(1, math.ceil(count / self.per_sheet))

    def stamp_box(self, position: int) -> Box:
        """Return the box of the stamp at a 0-based position on the sheet."""
        row, column = divmod(position, self.columns)
        x = self.margin_left_mm + column * (self.stamp_mm + self.gap_mm)
        top = self.margin_top_mm + row * (self.stamp_mm + self.gap_mm)
        return Box(x, self.page_height_mm - top - self.stamp_mm, self.stamp_mm, self.stamp_mm)

    @property
    def grid(self) -> Box:
        """Return the box around all stamps of a full sheet."""
        width = self.columns * self.stamp_mm + (self.columns - 1) * self.gap_mm
        height = self.rows * self.stamp_mm + (self.rows - 1) * self.gap_mm
        return Box(self.margin_left_mm, self.page_height_mm - self.margin_top_mm - height, width, height)

    @property
    def text_block_mm(self) -> float:
        """Return the height the text lines under the QR take."""
        return STAMP_TEXT_LINES * self.text_pt * LINE_HEIGHT / MM

    def module_mm_for(self, symbol_modules: int) -> float:
        """Return the module size for a symbol: the nominal one, or the largest (0.01 mm steps) that fits with text."""
        span = symbol_modules + 2 * self.quiet_zone_modules
        room = min(self.stamp_mm, self.stamp_mm - self.text_block_mm)
        fitting = math.floor(room / span * 100 + 1e-9) / 100
        if fitting <= 0:
            raise ValueError(f"layout {self.name}: no room for a QR code of {symbol_modules} modules")
        return min(self.module_mm, fitting)


A4_WIDTH, A4_HEIGHT = 210.0, 297.0

# 6 x 8 stamps of 30 mm with 2 mm cutting gaps: 190 x 254 mm, centred across, ~21 mm top margin for the
# run information, and at least 10 mm all round because office and offset printers cannot print to the edge.
A4_30MM = Layout(
    name="a4-30mm",
    title=N_("A4 sheet, 48 stamps of 30 mm"),
    page_width_mm=A4_WIDTH,
    page_height_mm=A4_HEIGHT,
    stamp_mm=30.0,
    columns=6,
    rows=8,
    margin_left_mm=10.0,
    margin_top_mm=22.5,
    gap_mm=2.0,
    crop_marks=True,
    text_pt=6.5,
)

# 8 x 12 stamps of 20 mm: 174 x 262 mm. A version-6 code at 0.33 mm with its quiet zone is 16.2 mm, which
# leaves 3.8 mm for three lines of text; module_mm_for() shrinks the modules to 0.29 mm (14.2 mm code) so
# that 4.5 pt text fits. 0.29 mm is still 3.4 dots at 300 dpi and 6.9 at 600 dpi.
A4_20MM = Layout(
    name="a4-20mm",
    title=N_("A4 sheet, 96 stamps of 20 mm"),
    page_width_mm=A4_WIDTH,
    page_height_mm=A4_HEIGHT,
    stamp_mm=20.0,
    columns=8,
    rows=12,
    margin_left_mm=18.0,
    margin_top_mm=19.0,
    gap_mm=2.0,
    crop_marks=True,
    text_pt=4.5,
)

# Thermal-transfer label printers (Zebra, TSC, Godex…) feed die-cut labels and re-synchronise on the gap
# sensor at each page: their drivers expect one PDF page per label, sized exactly like the label. A strip of
# several labels on one page would drift across the gaps. Labels have no margin, so the run information goes
# on one leading "run ticket" label instead of on each page.
ROLL_30MM = Layout(
    name="roll-30mm",
    title=N_("Label printer roll, 30 mm labels"),
    page_width_mm=30.0,
    page_height_mm=30.0,
    stamp_mm=30.0,
    columns=1,
    rows=1,
    margin_left_mm=0.0,
    margin_top_mm=0.0,
    gap_mm=0.0,
    crop_marks=False,
    text_pt=6.5,
    sheet_info=False,
    run_ticket=True,
)

LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in (A4_30MM, A4_20MM, ROLL_30MM)}


def get_layout(name: str) -> Layout:
    """Return the layout with this name, or raise KeyError listing the known ones."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise KeyError(f"unknown layout {name!r}; known: {', '.join(sorted(LAYOUTS))}") from None
