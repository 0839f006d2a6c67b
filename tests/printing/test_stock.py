"""Label stock a producer can buy: gLabels' products, custom sizes, and the names batches and jobs store."""

from __future__ import annotations

import io

import pytest

from tests.printing.conftest import TEMPLATES
from traceability.printing.layouts import LayoutInvalid
from traceability.printing.printerfiles import write_hidden_codes
from traceability.printing.sizing import fits
from traceability.printing.stock import (
    TEMPLATE_DIRS,
    CustomStock,
    UnknownLayout,
    find_template,
    list_templates,
    load_templates,
    resolve_layout,
    template_layout,
)

COPY = [str(TEMPLATES)]  # tests/printing/data/glabels: a few of Debian glabels-data's templates


def test_the_copied_templates_are_read_with_units_equivalents_and_shapes() -> None:
    templates = load_templates(COPY)
    assert sorted(templates) == ["avery-7160", "avery-l7160", "avery-l7651", "avery-l7670", "dymo-11354"]
    l7160 = templates["avery-l7160"]  # equiv="7160": the same stock under another part number
    assert (l7160.brand, l7160.part, l7160.columns, l7160.rows) == ("Avery", "L7160", 3, 7)
    assert l7160.label_width_mm == pytest.approx(181.4 * 25.4 / 72)  # plain numbers are points
    assert l7160.corner_radius_mm == pytest.approx(5 * 25.4 / 72) and l7160.page_height_mm == 297
    round_label = templates["avery-l7670"]
    assert round_label.round and round_label.label_width_mm == pytest.approx(65)
    assert templates["avery-l7651"].inset_mm == pytest.approx(1.0)  # the markup margin, in mm


def test_a_product_is_found_by_brand_and_part_in_any_spelling() -> None:
    for spelling in ("Avery:L7160", "Avery L7160", "avery-l7160", "AVERY:l7160"):
        assert find_template(spelling, COPY).name == "avery-l7160"
    with pytest.raises(UnknownLayout, match="no label product 'Avery:X1' in the gLabels templates") as refused:
        find_template("Avery:X1", COPY)
    assert refused.value.field == "label_template"


def test_sheets_get_margin_information_and_single_labels_a_run_ticket_at_203_dpi() -> None:
    sheet = template_layout(find_template("Avery:L7160", COPY))
    assert sheet.sheet_info and not sheet.run_ticket and not sheet.crop_marks and sheet.dpi == 300
    single = template_layout(find_template("Dymo:11354", COPY))
    assert single.per_sheet == 1 and single.run_ticket and not single.sheet_info and single.dpi == 203
    small = template_layout(find_template("Avery:L7651", COPY))  # 10.7 mm top margin: no room for the header
    assert small.run_ticket and not small.sheet_info


def test_only_products_that_hold_the_code_are_offered() -> None:
    offered = {t.name for t in list_templates(41, COPY)}
    assert offered == {"avery-7160", "avery-l7160", "avery-l7670", "dymo-11354"}  # L7651 is 38 × 21 mm
    assert not fits(template_layout(find_template("Avery:L7651", COPY)), 41)


@pytest.mark.skipif(not load_templates(TEMPLATE_DIRS[:1]), reason="Debian's glabels-data is not installed")
def test_debians_template_database_is_read_whole() -> None:
    templates = list_templates(directories=TEMPLATE_DIRS[:1])
    assert len(templates) > 1000
    assert all(len(t.name) <= 35 for t in templates)  # room for "@2400" in 40 characters
    assert len(list_templates(41, TEMPLATE_DIRS[:1])) > 500


@pytest.mark.parametrize(
    "stock",
    [
        CustomStock(40, 30),
        CustomStock(30, 30, 6, 8, 2, "a4"),
        CustomStock(45.5, 30, 4, 8, 2.5, "a4", landscape=False, corner_radius_mm=2),
        CustomStock(30, 30, 8, 6, 2, "a4", landscape=True),
        CustomStock(40, 40, scratch_box_mm=(12, 5)),
        CustomStock(50, 30, 3, 8, 3, "letter"),
    ],
)
def test_custom_stock_names_resolve_back_to_the_same_layout(stock: CustomStock) -> None:
    layout = resolve_layout(stock.name)
    assert layout.name == stock.name and len(stock.name) <= 40
    assert (layout.label_width_mm, layout.label_height_mm) == (stock.width_mm, stock.height_mm)
    assert layout.scratch_box_mm == stock.scratch_box_mm
    if stock.page != "roll":  # a roll's page is the label, whichever way it is longer
        assert layout.orientation == ("landscape" if stock.landscape else "portrait")
    at_600 = resolve_layout(f"{stock.name}@600")
    assert at_600.dpi == 600 and at_600.name == f"{stock.name}@600"
    assert resolve_layout(stock.name, 600) == at_600


def test_custom_grids_are_centred_with_crop_marks_when_they_fit() -> None:
    layout = resolve_layout("custom-30x30-6x8-g2-a4")
    assert layout.margin_left_mm == pytest.approx(10) and layout.margin_top_mm == pytest.approx(21.5)
    assert layout.crop_marks and layout.sheet_info
    with pytest.raises(LayoutInvalid, match="7 × 8 labels of 30 × 30 mm with these margins and gaps take"):
        resolve_layout("custom-30x30-7x8-g2-a4")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("letter-30mm", "unknown layout 'letter-30mm'; choose one of: a4-20mm, a4-30mm, roll-30mm, a gLabels product"),
        ("a4-30mm@high", "does not end in @ and a resolution in dpi"),
        ("a4-30mm@20", "between 100 and 4800 dpi, not 20"),
        ("custom-30x30-6x8-g2-b5", "unknown layout"),
    ],
)
def test_names_that_mean_nothing_are_refused(name: str, message: str) -> None:
    with pytest.raises((UnknownLayout, LayoutInvalid), match=message):
        resolve_layout(name)


def test_hidden_codes_go_to_a_file_of_their_own() -> None:
    out = io.BytesIO()
    assert write_hidden_codes(iter([("0000123-000001-ABCDE", "7Q4K-92XM"), ("0000123-000002-FGHJK", "3B8N")]), out) == 2
    assert out.getvalue().decode().splitlines() == [
        "serial,hidden_code",
        "0000123-000001-ABCDE,7Q4K-92XM",
        "0000123-000002-FGHJK,3B8N",
    ]
    with pytest.raises(ValueError, match="hidden code must be printable"):
        write_hidden_codes([("0000123-000003-LMNPQ", "")], io.BytesIO())
