"""Where the QR code and its text go on a label: whole printer dots, as large as the label allows, never too small.

Phones read a stamp at arm's length at about 7 px per mm of label, a little out of focus: at 0.33 mm modules
none of 40 stamps decoded, at 0.5 mm 38 to 40 did (issue 12; benchmarks/phone_decode.py measures it again).
So the module is at least MIN_MODULE_MM, and a whole number of the printer's dots: a thermal printer given a
module of 2.64 dots prints some 2 and some 3 dots wide. The text lines go under the code or beside it,
whichever leaves the larger module; they shrink (down to MIN_TEXT_PT) before the module falls below the minimum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

from traceability.errors import ValidationError
from traceability.i18n import N_
from traceability.printing.layouts import LINE_HEIGHT, MM, STAMP_TEXT_LINES, Layout

MIN_MODULE_MM = 0.5  # 38/40 phone shots decode at 0.5 mm, 0/40 at 0.33 mm (6.9 px/mm, 1.2 px defocus)
MIN_TEXT_PT = 4.0  # cap height about 1 mm: still readable; below it the code would lose the room instead
TEXT_STEP_PT = 0.25
MIN_TEXT_COLUMN_MM = 15.0  # text beside the code needs at least this width for a serial at MIN_TEXT_PT
SCRATCH_GAP_MM = 1.0  # between the text and a scratch box
# The printed code is 11 characters (7KQ2X-M4D9P): about 14 mm at 6 pt in a monospaced face, and the foil
# laid over it needs a millimetre of overlap all round.
SCRATCH_BOX_MM = (16.0, 5.0)
# Every stamp's code is version 6 at level M (stamps/codec.py keeps the URL within it): 41 modules a side.
STAMP_SYMBOL_MODULES = 41


class LabelTooSmall(ValidationError):
    """The label cannot hold the batch's QR code at the smallest module the service prints."""

    code = "label_too_small"


def dot_mm(dpi: int) -> float:
    """Return the size of one printer dot in millimetres."""
    return 25.4 / dpi


def whole_dots(length_mm: float, dpi: int) -> int:
    """Return how many whole dots of a dpi printer fit into length_mm."""
    return math.floor(length_mm / dot_mm(dpi) + 1e-9)


@dataclass(frozen=True)
class Area:
    """A rectangle in millimetres from a label's top-left corner (x right, y down)."""

    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True)
class LabelPlan:
    """The QR code and text of every label of a layout, relative to the label's top-left corner."""

    dpi: int
    module_dots: int
    symbol_modules: int
    quiet_modules: int
    text_pt: float
    beside: bool  # text beside the code (wide labels), else under it
    code: Area  # the code with its quiet zone, before snapping to the printer's dots
    text: Area  # the text block: STAMP_TEXT_LINES centred lines
    scratch: Area | None  # room kept for a scratch-off code, if the layout asks for it

    @property
    def module_mm(self) -> float:
        """Return the module size in millimetres."""
        return self.module_dots * dot_mm(self.dpi)

    @property
    def module_pt(self) -> float:
        """Return the module size in PDF points."""
        return self.module_dots * 72 / self.dpi


def text_block_mm(text_pt: float) -> float:
    """Return the height the text lines take at a size."""
    return STAMP_TEXT_LINES * text_pt * LINE_HEIGHT / MM


def content_area(layout: Layout) -> Area:
    """Return the part of a label that is surely on it: inside the inner margin and clear of rounded corners."""
    width, height, inset = layout.label_width_mm, layout.label_height_mm, layout.inset_mm
    if layout.round:
        side = width / math.sqrt(2) - 2 * inset  # the square inscribed in the circle
        return Area((width - side) / 2, (height - side) / 2, side, side)
    # A box whose corners sit on the corner arcs: r (1 - 1/√2) in from each edge.
    corner = layout.corner_radius_mm * (1 - 1 / math.sqrt(2))
    edge = inset + corner
    return Area(edge, edge, width - 2 * edge, height - 2 * edge)


def _module_dots(room_mm: float, span: int, dpi: int) -> int:
    return whole_dots(room_mm / span, dpi) if room_mm > 0 else 0


def _plan(layout: Layout, symbol: int, text_pt: float, beside: bool) -> LabelPlan | None:
    """Return the plan of one arrangement at one text size, or None if it leaves no room."""
    area, quiet, dpi = content_area(layout), layout.quiet_zone_modules, layout.dpi
    span = symbol + 2 * quiet
    block = text_block_mm(text_pt)
    box_w, box_h = layout.scratch_box_mm or (0.0, 0.0)
    below = block + (box_h + SCRATCH_GAP_MM if layout.scratch_box_mm else 0.0)
    if beside:
        column = max(MIN_TEXT_COLUMN_MM, box_w)
        dots = _module_dots(min(area.height, area.width - column), span, dpi)
        if below > area.height:
            return None
    else:
        dots = _module_dots(min(area.width, area.height - below), span, dpi)
        if box_w > area.width:
            return None
    if dots < 1:
        return None
    side = span * dots * dot_mm(dpi)
    if beside:
        code = Area(area.left, area.top + (area.height - side) / 2, side, side)
        text = Area(area.left + side, area.top + (area.height - below) / 2, area.width - side, block)
    else:
        top = area.top + (area.height - side - below) / 2
        code = Area(area.left + (area.width - side) / 2, top, side, side)
        text = Area(area.left, top + side, area.width, block)
    scratch = None
    if layout.scratch_box_mm:
        scratch = Area(text.left + (text.width - box_w) / 2, text.top + block + SCRATCH_GAP_MM, box_w, box_h)
    return LabelPlan(dpi, dots, symbol, quiet, text_pt, beside, code, text, scratch)


def _text_sizes(nominal: float) -> list[float]:
    steps = max(0, math.floor((nominal - MIN_TEXT_PT) / TEXT_STEP_PT + 1e-9))
    return [nominal - i * TEXT_STEP_PT for i in range(steps + 1)] if nominal > MIN_TEXT_PT else [MIN_TEXT_PT]


@lru_cache(maxsize=64)
def plan_label(layout: Layout, symbol_modules: int) -> LabelPlan:
    """Return where code and text go: the largest text leaving a module ≥ MIN_MODULE_MM, then the largest module.

    Raise LabelTooSmall if no arrangement reaches MIN_MODULE_MM even with MIN_TEXT_PT text.
    """
    for text_pt in _text_sizes(layout.text_pt):
        plans = [p for p in (_plan(layout, symbol_modules, text_pt, b) for b in (False, True)) if p is not None]
        fitting = [p for p in plans if p.module_mm >= MIN_MODULE_MM - 1e-9]
        if fitting:
            return max(fitting, key=lambda p: p.module_dots)  # max() keeps the first of equals: text under the code
    below, beside = smallest_label(symbol_modules, layout.dpi, layout.quiet_zone_modules, layout.scratch_box_mm)
    message = N_(
        "labels of %(width)s × %(height)s mm are too small for this batch's QR code (%(modules)s modules with"
        " its quiet zone): the smallest module printed is %(module)s mm, which needs labels of at least"
        " %(below_w)s × %(below_h)s mm (text under the code) or %(beside_w)s × %(beside_h)s mm (text beside it)"
    )
    if layout.scratch_box_mm:
        message = N_(
            "labels of %(width)s × %(height)s mm are too small for this batch's QR code (%(modules)s modules with"
            " its quiet zone) and its scratch-off box: the smallest module printed is %(module)s mm, which needs"
            " labels of at least %(below_w)s × %(below_h)s mm (text and box under the code) or %(beside_w)s ×"
            " %(beside_h)s mm (beside it)"
        )
    raise LabelTooSmall(
        message,
        field="layout",
        params={
            "width": _mm(layout.label_width_mm),
            "height": _mm(layout.label_height_mm),
            "modules": symbol_modules + 2 * layout.quiet_zone_modules,
            "module": _mm(MIN_MODULE_MM),
            "below_w": _mm(below[0]),
            "below_h": _mm(below[1]),
            "beside_w": _mm(beside[0]),
            "beside_h": _mm(beside[1]),
        },
    )


def fits(layout: Layout, symbol_modules: int) -> bool:
    """Say whether the layout's labels can hold a code of this many modules (quiet zone not counted)."""
    try:
        plan_label(layout, symbol_modules)
    except LabelTooSmall:
        return False
    return True


def _mm(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def smallest_label(
    symbol_modules: int, dpi: int, quiet: int = 4, scratch_box_mm: tuple[float, float] | None = None
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Return the smallest (width, height) of a plain label holding the code: text (and box) under it, and beside it."""
    module = math.ceil(MIN_MODULE_MM / dot_mm(dpi) - 1e-9) * dot_mm(dpi)
    side = (symbol_modules + 2 * quiet) * module

    def up(value: float) -> float:
        return math.ceil(value * 10 - 1e-6) / 10

    box_w, box_h = scratch_box_mm or (0.0, 0.0)
    block = text_block_mm(MIN_TEXT_PT) + (box_h + SCRATCH_GAP_MM if scratch_box_mm else 0.0)
    below = (up(max(side, box_w)), up(side + block))
    return below, (up(side + max(MIN_TEXT_COLUMN_MM, box_w)), up(max(side, block)))


def with_scratch_box(layout: Layout) -> Layout:
    """Return the layout keeping a scratch-off box free on every label (its own size if it names one)."""
    return layout if layout.scratch_box_mm else replace(layout, scratch_box_mm=SCRATCH_BOX_MM)
