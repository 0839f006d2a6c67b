"""Label stock typed on a form: the name stored, and a clear refusal naming the field to correct."""

from __future__ import annotations

import pytest

from traceability.errors import ValidationError
from traceability.printing.layouts import LayoutInvalid
from traceability.printing.stock import resolve_layout
from traceability.printing.stockinput import stock_name

SHEET = {"page": "a4", "label_width": "30", "label_height": "30", "columns": "6", "rows": "8"}


@pytest.mark.parametrize(
    ("kind", "values", "name"),
    [
        ("named", {"layout": "a4-30mm"}, "a4-30mm"),
        ("named", {"layout": "roll-30mm", "dpi": "300"}, "roll-30mm@300"),
        ("named", {"layout": "a4-30mm@600"}, "a4-30mm@600"),  # a stored name, as the retry button posts it
        ("template", {"template": "avery-l7160"}, "avery-l7160"),
        ("template", {"template": "avery-l7160", "dpi": "600"}, "avery-l7160@600"),
        ("custom", {"page": "roll", "label_width": "40", "label_height": "30"}, "custom-40x30-roll"),
        ("custom", {"page": "roll", "label_width": "62,5", "label_height": "30"}, "custom-62.5x30-roll"),
        ("custom", SHEET, "custom-30x30-6x8-g2-a4"),
        ("custom", {**SHEET, "gap_x": "2", "gap_y": "3"}, "custom-30x30-6x8-g2x3-a4"),
        ("custom", {**SHEET, "margin_left": "10", "margin_top": "22.5"}, "custom-30x30-6x8-g2-a4-m10x22.5"),
        ("custom", {**SHEET, "columns": "8", "rows": "6", "landscape": "y"}, "custom-30x30-8x6-g2-a4-landscape"),
        ("custom", {**SHEET, "dpi": "600"}, "custom-30x30-6x8-g2-a4@600"),
    ],
)
def test_the_fields_give_one_name_that_resolves_to_the_stock(kind: str, values: dict[str, str], name: str) -> None:
    assert stock_name(kind, values) == name
    assert resolve_layout(name).name == name


def test_margins_and_row_gaps_place_the_labels() -> None:
    layout = resolve_layout(stock_name("custom", {**SHEET, "gap_y": "3", "margin_left": "10", "margin_top": "22.5"}))
    assert (layout.margin_left_mm, layout.margin_top_mm, layout.gap_x_mm, layout.gap_y_mm) == (10, 22.5, 2, 3)
    assert layout.stamp_box(6).y == pytest.approx(297 - 22.5 - 30 - 3 - 30)  # second row, 3 mm below the first


@pytest.mark.parametrize(
    ("kind", "values", "field", "message"),
    [
        ("custom", {**SHEET, "label_width": "thirty"}, "label_width", "write a length in millimetres from 5 to 500"),
        ("custom", {**SHEET, "label_width": "nan"}, "label_width", "write a length in millimetres"),
        ("custom", {**SHEET, "label_height": ""}, "label_height", "give the size of one label in millimetres"),
        ("custom", {**SHEET, "columns": "0"}, "columns", "write a whole number of labels from 1 to 100"),
        ("custom", {**SHEET, "rows": "٣"}, "rows", "write a whole number of labels"),
        ("custom", {**SHEET, "gap_x": "-1"}, "gap_x", "from 0 to 200"),
        ("custom", {**SHEET, "margin_left": "10"}, "margin_top", "give both margins, or neither"),
        ("custom", {**SHEET, "page": "b5"}, "page", "choose a page size from the list"),
        ("custom", {**SHEET, "dpi": "72"}, "dpi", "from 100 to 4800, e.g. 203, 300 or 600"),
        ("template", {"template": "avery-nope"}, "template", "choose a label product from the list"),
        ("named", {"layout": ""}, "layout", "This field is required."),
        ("named", {"layout": "a3-50mm"}, "layout", "unknown layout 'a3-50mm'"),
        ("other", {}, "stock", "choose how the labels are given"),
    ],
)
def test_bad_fields_are_refused_on_the_field_to_correct(
    kind: str, values: dict[str, str], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        stock_name(kind, values)
    assert refused.value.details["field"] == field and message in refused.value.localized()


def test_labels_that_overrun_the_page_are_refused_with_the_sizes() -> None:
    with pytest.raises(LayoutInvalid) as refused:
        stock_name("custom", {**SHEET, "columns": "7"})
    assert refused.value.details["field"] == "layout"
    assert (
        "7 × 8 labels of 30 × 30 mm" in refused.value.localized() and "210 × 297 mm page" in refused.value.localized()
    )


def test_a_name_too_long_to_store_says_how_to_shorten_it() -> None:
    values = {**SHEET, "page": "letter", "label_width": "62.55", "label_height": "33.95", "columns": "3",
              "gap_x": "2.5", "gap_y": "3.25", "margin_left": "4.75", "margin_top": "12.75", "dpi": "600"}  # fmt: skip
    with pytest.raises(LayoutInvalid) as refused:
        stock_name("custom", values)
    assert "at most 40" in refused.value.localized() and "leave the margins empty" in refused.value.localized()
