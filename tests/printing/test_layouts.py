"""Label stock and sizing: labels on the page, whole-dot modules, the code as large as the label allows, not smaller."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from traceability.printing.layouts import A4_20MM, LAYOUTS, Layout, LayoutInvalid, get_layout
from traceability.printing.pagebuild import page_size_pt, stamp_geometry
from traceability.printing.sizing import (
    MIN_MODULE_MM,
    MIN_TEXT_PT,
    STAMP_SYMBOL_MODULES,
    LabelTooSmall,
    content_area,
    plan_label,
    smallest_label,
    text_block_mm,
)
from traceability.printing.stock import resolve_layout

STOCK = [*LAYOUTS.values(), resolve_layout("custom-45x30-4x8-g3-a4"), resolve_layout("custom-42x30-roll-r2")]
FITTING = [layout for layout in STOCK if layout.name != "a4-20mm"]


def is_whole(value: float) -> bool:
    """Say whether a count of dots is whole, to the 3 decimals of a point the PDF is written with (≤ 0.0014 dot)."""
    return abs(value - round(value)) < 2e-3


@pytest.mark.parametrize("layout", STOCK, ids=[layout.name for layout in STOCK])
def test_labels_lie_on_the_page_without_overlapping(layout: Layout) -> None:
    boxes = [layout.stamp_box(i) for i in range(layout.per_sheet)]
    for box in boxes:
        assert box.x >= 0 and box.x + box.width <= layout.page_width_mm + 1e-9
        assert box.y >= 0 and box.y + box.height <= layout.page_height_mm + 1e-9
    for a, b in itertools.combinations(boxes, 2):
        apart_x = a.x + a.width <= b.x + 1e-9 or b.x + b.width <= a.x + 1e-9
        apart_y = a.y + a.height <= b.y + 1e-9 or b.y + b.height <= a.y + 1e-9
        assert apart_x or apart_y


@pytest.mark.parametrize("dpi", [203, 300, 600])
@pytest.mark.parametrize("layout", FITTING, ids=[layout.name for layout in FITTING])
def test_modules_and_positions_are_whole_printer_dots(layout: Layout, dpi: int) -> None:
    stock = layout.at_dpi(dpi)
    plan = plan_label(stock, STAMP_SYMBOL_MODULES)
    assert plan.dpi == dpi and plan.module_dots >= 1
    assert is_whole(plan.module_mm * dpi / 25.4) and plan.module_mm >= MIN_MODULE_MM
    width, height = page_size_pt(stock)
    assert is_whole(width * dpi / 72) and is_whole(height * dpi / 72)  # top and bottom pixel grids agree
    for position in range(stock.per_sheet):
        geometry = stamp_geometry(stock, plan, position)
        assert is_whole(geometry.qr_x * dpi / 72), position
        assert is_whole((height - geometry.qr_y) * dpi / 72), position


@pytest.mark.parametrize("layout", FITTING, ids=[layout.name for layout in FITTING])
@pytest.mark.parametrize("symbol", [41, 45, 49])  # versions 6, 7 and 8
def test_code_quiet_zone_and_text_stay_inside_the_label(layout: Layout, symbol: int) -> None:
    try:
        plan = plan_label(layout, symbol)
    except LabelTooSmall:
        assert symbol > STAMP_SYMBOL_MODULES  # a stamp's own code always fits the layouts offered
        return
    area = content_area(layout)
    code, text = plan.code, plan.text
    side = (symbol + 2 * plan.quiet_modules) * plan.module_mm
    assert code.width == pytest.approx(side) and code.height == pytest.approx(side)
    for part in (code, text):
        assert part.left >= area.left - 1e-9 and part.left + part.width <= area.left + area.width + 1e-9
        assert part.top >= area.top - 1e-9 and part.top + part.height <= area.top + area.height + 1e-9
    assert text.height == pytest.approx(text_block_mm(plan.text_pt)) and plan.text_pt >= MIN_TEXT_PT
    if plan.beside:
        assert text.left >= code.left + code.width - 1e-9
    else:
        assert text.top >= code.top + code.height - 1e-9


def test_the_30mm_stamps_get_half_millimetre_modules_and_smaller_text() -> None:
    # 0.33 mm modules (the old sizing) gave 0 of 40 phone shots; the text shrinks to leave 0.5 mm or more.
    for dpi, dots, text_pt in ((203, 4, 4.25), (300, 6, 4.0), (600, 12, 4.0)):
        plan = plan_label(get_layout("a4-30mm").at_dpi(dpi), 41)
        assert (plan.module_dots, plan.text_pt, plan.beside) == (dots, text_pt, False)
    assert plan_label(get_layout("roll-30mm"), 41).module_dots == 4  # a roll is for a 203-dpi printer


def test_wide_labels_put_the_text_beside_a_larger_code() -> None:
    plan = plan_label(resolve_layout("custom-45x30-4x8-g3-a4"), 41)
    assert plan.beside and plan.text_pt == 6.5 and plan.module_dots == 7
    big = plan_label(resolve_layout("custom-70x50-2x5-g3-a4"), 41)
    assert big.beside and big.module_mm > 0.9


def test_a_label_too_small_is_refused_naming_the_smallest_that_works() -> None:
    with pytest.raises(LabelTooSmall) as refused:
        plan_label(A4_20MM, 41)
    message = refused.value.message
    assert "labels of 20 × 20 mm are too small for this batch's QR code (49 modules with its quiet zone)" in message
    assert "the smallest module printed is 0.5 mm" in message
    assert "at least 24.9 × 30 mm (text under the code) or 39.9 × 24.9 mm (text beside it)" in message
    assert refused.value.field == "layout" and refused.value.status == 422
    below, beside = smallest_label(41, 300)
    plan_label(resolve_layout(f"custom-{below[0]}x{below[1]}-roll").at_dpi(300), 41)
    plan_label(resolve_layout(f"custom-{beside[0]}x{beside[1]}-roll").at_dpi(300), 41)


def test_round_and_rounded_labels_keep_the_code_off_the_curve() -> None:
    round_label = Layout("round", 70, 70, 65, 65, 1, 1, 2.5, 2.5, round=True)
    area = content_area(round_label)
    assert area.width == pytest.approx(65 / 2**0.5)
    rounded = content_area(resolve_layout("custom-42x30-roll-r2"))
    assert rounded.left == pytest.approx(2 * (1 - 2**-0.5))


def test_a_scratch_box_is_kept_free_under_the_text() -> None:
    plain = plan_label(resolve_layout("custom-40x40-roll"), 41)
    boxed = plan_label(resolve_layout("custom-40x40-roll-s12x5"), 41)
    assert plain.scratch is None and boxed.scratch is not None
    box = boxed.scratch
    assert (box.width, box.height) == (12, 5)
    assert box.top >= boxed.text.top + boxed.text.height and box.top + box.height <= 40
    assert boxed.module_dots <= plain.module_dots


def test_sheets_read_left_to_right_then_top_to_bottom() -> None:
    layout = get_layout("a4-30mm")
    first, second, below = layout.stamp_box(0), layout.stamp_box(1), layout.stamp_box(layout.columns)
    assert second.x > first.x and second.y == first.y
    assert below.y < first.y and below.x == first.x


def test_roll_layout_is_one_label_per_page_with_a_run_ticket() -> None:
    roll = get_layout("roll-30mm")
    assert roll.per_sheet == 1 and roll.dpi == 203
    assert (roll.page_width_mm, roll.page_height_mm) == (30.0, 30.0)
    assert roll.run_ticket and not roll.sheet_info and not roll.crop_marks


BASE: dict[str, Any] = {
    "name": "x",
    "page_width_mm": 100,
    "page_height_mm": 100,
    "label_width_mm": 30,
    "label_height_mm": 30,
    "columns": 3,
    "rows": 3,
    "margin_left_mm": 2,
    "margin_top_mm": 2,
    "gap_x_mm": 2,
    "gap_y_mm": 2,
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"columns": 4}, "4 × 3 labels of 30 × 30 mm with these margins and gaps take 128 × 96 mm, more than"),
        ({"margin_top_mm": 20}, "take 96 × 114 mm, more than the 100 × 100 mm page"),
        ({"gap_x_mm": -1}, "cannot be negative"),
        ({"label_width_mm": 0}, "positive size"),
        ({"rows": 0}, "at least one row"),
        ({"corner_radius_mm": 16}, "a corner radius of 16 mm does not fit labels of 30 × 30 mm"),
        ({"round": True, "label_width_mm": 25}, "one diameter"),
        ({"dpi": 50}, "between 100 and 4800 dpi, not 50"),
        ({"name": "x" * 41}, "at most 40 characters"),
    ],
)
def test_impossible_stock_is_refused_clearly(change: dict[str, Any], message: str) -> None:
    with pytest.raises(LayoutInvalid, match=message) as refused:
        Layout(**{**BASE, **change})
    assert refused.value.field == "layout"


def test_unknown_named_layouts_list_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known: a4-20mm, a4-30mm, roll-30mm"):
        get_layout("letter")
