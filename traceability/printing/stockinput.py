"""Label stock as a person gives it on a form: a standard layout, a gLabels product, or typed dimensions.

Pure: the values of the form's fields in, the layout name to store out (stock.py reads it back), or a
ValidationError naming the field to correct. Whether the labels hold the batch's code is services.checked_stock's
question, asked once the name is known.
"""

from __future__ import annotations

from collections.abc import Mapping

from traceability.errors import ValidationError
from traceability.i18n import N_
from traceability.printing.layouts import NAME_LENGTH, LayoutInvalid
from traceability.printing.stock import PAGES_MM, ROLL, CustomStock, load_templates, resolve_layout

KINDS = ("named", "template", "custom")
PAGES = (*PAGES_MM, ROLL)
LABEL_MM = (5.0, 500.0)  # smallest and largest label side accepted
SPACING_MM = (0.0, 200.0)  # margins and gaps
MAX_GRID = 100  # columns or rows on one page
DPI_RANGE = (100, 4800)
DEFAULT_GAP_MM = 2.0  # as `batch print --gap`


def _text(values: Mapping[str, str | None], field: str) -> str:
    return (values.get(field) or "").strip()


def _length(values: Mapping[str, str | None], field: str, bounds: tuple[float, float]) -> float | None:
    """Return a length in mm typed with a point or a comma, None if empty; raise ValidationError on the field."""
    text = _text(values, field).replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not bounds[0] <= value <= bounds[1]:  # also false for nan, inf
        raise ValidationError(
            N_("write a length in millimetres from %(low)s to %(high)s, e.g. 30 or 62.5"),
            field=field,
            params={"low": f"{bounds[0]:g}", "high": f"{bounds[1]:g}"},
        )
    return round(value, 2)


def _count(values: Mapping[str, str | None], field: str) -> int:
    text = _text(values, field)
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_GRID):
        raise ValidationError(
            N_("write a whole number of labels from 1 to %(max)s"), field=field, params={"max": MAX_GRID}
        )
    return int(text)


def _required(value: float | None, field: str) -> float:
    if value is None:
        raise ValidationError(N_("give the size of one label in millimetres"), field=field)
    return value


def read_dpi(values: Mapping[str, str | None]) -> int | None:
    """Return the printer's resolution typed, or None for the stock's default."""
    text = _text(values, "dpi")
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and DPI_RANGE[0] <= int(text) <= DPI_RANGE[1]):
        raise ValidationError(
            N_("write the printer's resolution in dots per inch, from %(low)s to %(high)s, e.g. 203, 300 or 600"),
            field="dpi",
            params={"low": DPI_RANGE[0], "high": DPI_RANGE[1]},
        )
    return int(text)


def read_custom(values: Mapping[str, str | None]) -> CustomStock:
    """Return the custom stock typed: label size, and for sheets the page, grid, gaps and optional margins."""
    page = _text(values, "page") or "a4"
    if page not in PAGES:
        raise ValidationError(N_("choose a page size from the list"), field="page")
    width = _required(_length(values, "label_width", LABEL_MM), "label_width")
    height = _required(_length(values, "label_height", LABEL_MM), "label_height")
    if page == ROLL:
        return CustomStock(width, height)
    columns, rows = _count(values, "columns"), _count(values, "rows")
    gap_x = _length(values, "gap_x", SPACING_MM)
    gap_y = _length(values, "gap_y", SPACING_MM)
    left = _length(values, "margin_left", SPACING_MM)
    top = _length(values, "margin_top", SPACING_MM)
    if (left is None) != (top is None):
        raise ValidationError(
            N_("give both margins, or neither to centre the labels on the page"),
            field="margin_left" if left is None else "margin_top",
        )
    gap = DEFAULT_GAP_MM if gap_x is None else gap_x
    return CustomStock(
        width,
        height,
        columns,
        rows,
        gap,
        page,
        landscape=(values.get("landscape") or "") not in ("", "n", "false"),
        gap_y_mm=None if gap_y is None or gap_y == gap else gap_y,
        margins_mm=None if left is None or top is None else (left, top),
    )


def stock_name(kind: str, values: Mapping[str, str | None]) -> str:
    """Return the layout name the fields describe (at the printer's dpi, if given), or raise ValidationError.

    Labels that do not fit on their page raise LayoutInvalid (field "layout") with the sizes.
    """
    dpi = read_dpi(values)
    if kind == "template":
        base = _text(values, "template")
        if base not in load_templates():
            raise ValidationError(
                N_("choose a label product from the list: search for its brand or part number first"),
                field="template",
            )
    elif kind == "custom":
        base = read_custom(values).name
    elif kind == "named":
        base = _text(values, "layout")
        if not base:
            raise ValidationError(N_("This field is required."), field="layout")
    else:
        raise ValidationError(N_("choose how the labels are given"), field="stock")
    suffix = f"@{dpi}" if dpi else ""
    if len(base.partition("@")[0]) + len(suffix) > NAME_LENGTH:
        raise LayoutInvalid(
            N_(
                "these dimensions are too long to store (%(length)s characters, at most %(max)s): leave the margins"
                " empty to centre the labels, give one gap, or round the sizes to whole millimetres"
            ),
            field="layout",
            params={"length": len(base) + len(suffix), "max": NAME_LENGTH},
        )
    return resolve_layout(base, dpi).name
