"""Sheet geometries: stamps on the page, apart from each other, and a QR that fits with its text."""

from __future__ import annotations

import itertools

import pytest

from traceability.printing.layouts import A4_20MM, LAYOUTS, Layout, get_layout
from traceability.printing.qrspec import symbol_size


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=list(LAYOUTS))
def test_stamps_lie_on_the_page_without_overlapping(layout: Layout) -> None:
    boxes = [layout.stamp_box(i) for i in range(layout.per_sheet)]
    for box in boxes:
        assert box.x >= 0 and box.x + box.width <= layout.page_width_mm + 1e-9
        assert box.y >= 0 and box.y + box.height <= layout.page_height_mm + 1e-9
    for a, b in itertools.combinations(boxes, 2):
        apart_x = a.x + a.width <= b.x + 1e-9 or b.x + b.width <= a.x + 1e-9
        apart_y = a.y + a.height <= b.y + 1e-9 or b.y + b.height <= a.y + 1e-9
        assert apart_x or apart_y


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=list(LAYOUTS))
@pytest.mark.parametrize("version", [6, 8])
def test_code_and_text_fit_in_a_stamp(layout: Layout, version: int) -> None:
    module = layout.module_mm_for(symbol_size(version))
    span = module * (symbol_size(version) + 2 * layout.quiet_zone_modules)
    assert module <= layout.module_mm
    assert span <= layout.stamp_mm
    assert span + layout.text_block_mm <= layout.stamp_mm + 1e-9


def test_sheets_read_left_to_right_then_top_to_bottom() -> None:
    layout = get_layout("a4-30mm")
    first, second, below = layout.stamp_box(0), layout.stamp_box(1), layout.stamp_box(layout.columns)
    assert second.x > first.x and second.y == first.y
    assert below.y < first.y and below.x == first.x


def test_small_stamps_fall_back_to_the_largest_module_that_fits() -> None:
    assert get_layout("a4-30mm").module_mm_for(41) == 0.33
    assert A4_20MM.module_mm_for(41) == 0.29  # 16.2 mm at 0.33 leaves no room for text on 20 mm
    assert A4_20MM.module_mm_for(49) == 0.25  # version 8 (level Q)


def test_roll_layout_is_one_label_per_page_with_a_run_ticket() -> None:
    roll = get_layout("roll-30mm")
    assert roll.per_sheet == 1
    assert (roll.page_width_mm, roll.page_height_mm) == (30.0, 30.0)
    assert roll.run_ticket and not roll.sheet_info and not roll.crop_marks


def test_layouts_that_do_not_fit_are_refused() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        Layout("bad", 100, 100, 30, 4, 1, 0, 0, 0, crop_marks=False, text_pt=6)
    with pytest.raises(KeyError, match="known: a4-20mm, a4-30mm, roll-30mm"):
        get_layout("letter")
