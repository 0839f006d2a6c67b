"""The form that asks for a batch's print file, and the label stock fields it shares with the batch request.

Label stock is chosen three ways (stamps/forms.py StockFields): a standard layout, a gLabels product picked from
a server-side search (the "Find" button re-shows the form with the matches: no JavaScript needed), or typed
dimensions. stock_name() reads the fields into the one layout name that batches and print jobs store.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import RadioField

from traceability.printing import services, stockinput
from traceability.printing.layouts import LAYOUTS
from traceability.printing.sizing import STAMP_SYMBOL_MODULES
from traceability.printing.stock import load_templates, parse_custom, search_templates
from traceability.stamps.forms import STOCK_KINDS, StockFields
from traceability.stamps.models import Batch

# The files a person may ask for, one a job, so each is produced once and kept on its own: (label, what for).
FILE_KINDS: dict[str, tuple[str, str]] = {
    "pdf": (
        _l("Print-ready PDF"),
        _l("Sheets of stamps for an office or offset printer, or one label a page for a label printer."),
    ),
    "zip-svg": (
        _l("Printer ZIP (one SVG per stamp)"),
        _l("For a printing house that places each code on its own artwork."),
    ),
    "csv": (
        _l("Printer CSV (serial, url, sheet, position)"),
        _l("Where each stamp sits on the sheets of the PDF of the same layout."),
    ),
    "codes": (
        _l("Hidden scratch-off codes (CSV)"),
        _l(
            "Serial and hidden code of every stamp, for whoever prints the codes under the scratch-off layer only:"
            " never send it with the sheets."
        ),
    ),
}
CODES = "codes"  # offered only for scratch-off batches, on pages whose users may hold the codes
TEMPLATES_SHOWN = 60  # products listed at once; a search narrows the rest
PAGE_TITLES = {
    "a4": _l("A4 sheet (210 × 297 mm)"),
    "a5": _l("A5 sheet (148 × 210 mm)"),
    "a3": _l("A3 sheet (297 × 420 mm)"),
    "letter": _l("US Letter sheet (216 × 279 mm)"),
    "roll": _l("Label printer roll: one label a page"),
}
CUSTOM_FIELDS = ("label_width", "label_height", "columns", "rows", "margin_left", "margin_top", "gap_x", "gap_y")


class PrintForm(StockFields):
    format = RadioField(_l("File"), default="pdf")  # choices: FILE_KINDS, set by print_form()


def searching(form: StockFields) -> bool:
    """Say whether the form was sent with "Find": show the matching products again, do not act on it."""
    return bool(form.is_submitted() and form.find.data)


def _prefill(form: StockFields, name: str) -> None:
    """Show a stored layout name in the fields that make it."""
    base, _sep, dpi = name.partition("@")
    form.dpi.data = dpi
    custom = parse_custom(base)
    if base in LAYOUTS:
        form.stock.data, form.layout.data = "named", base
    elif custom is not None:
        form.stock.data = "custom"
        form.page.data, form.landscape.data = custom.page, custom.landscape
        sizes = (custom.width_mm, custom.height_mm, custom.columns, custom.rows, *(custom.margins_mm or ("", "")))
        for field, value in zip(CUSTOM_FIELDS, (*sizes, custom.gap_mm, custom.row_gap_mm), strict=True):
            getattr(form, field).data = f"{value:g}" if isinstance(value, float | int) else value
    else:
        form.stock.data, form.template.data = "template", base


def offer_stock(form: StockFields, layouts: Sequence[tuple[str, str]], current: str | None = None) -> None:
    """Set the stock fields' choices: the standard layouts, the products matching the search, the pages.

    current is the stored name shown in the fields when the form is first displayed.
    """
    form.stock.choices = list(STOCK_KINDS)
    form.layout.choices = [(name, _(label)) for name, label in layouts]
    form.page.choices = [(name, _(label)) for name, label in PAGE_TITLES.items()]
    if not form.is_submitted() and current:
        _prefill(form, current)
    if searching(form):
        form.stock.data = "template"
    shown, total = search_templates(form.template_search.data or "", STAMP_SYMBOL_MODULES, TEMPLATES_SHOWN)
    choices = [(t.name, t.title) for t in shown]
    chosen = load_templates().get(form.template.data or "")
    if chosen is not None and chosen.name not in {name for name, _title in choices}:
        choices.insert(0, (chosen.name, chosen.title))  # what was picked stays picked, whatever the search
    form.template.choices = choices
    form.template.description = _(
        "%(shown)s of %(total)s products whose labels hold a stamp; type a brand or part number and press Find.",
        shown=len(shown),
        total=total,
    )


def stock_name(form: StockFields) -> str:
    """Return the layout name the stock fields describe, or raise a DomainError naming the field to correct."""
    values = {name: getattr(form, name).data for name in ("layout", "template", "page", "dpi", *CUSTOM_FIELDS)}
    values["landscape"] = "y" if form.landscape.data else ""
    return stockinput.stock_name(form.stock.data or "named", values)


def file_kinds(batch: Batch, codes: bool) -> list[str]:
    """Return the files offered for a batch: the hidden codes only for a scratch-off batch, where allowed."""
    return [kind for kind in FILE_KINDS if kind != CODES or (codes and batch.scratch_off)]


def print_form(batch: Batch, layouts: Sequence[tuple[str, str]], *, codes: bool = False) -> PrintForm:
    """Return the form for a batch: the stock offered (the batch's own shown first), the files it may ask for."""
    form = PrintForm()
    offer_stock(form, layouts, batch.layout or services.DEFAULT_LAYOUT)
    form.format.choices = [(name, FILE_KINDS[name][0]) for name in file_kinds(batch, codes)]
    return form


def check_stock(name: str, scratch_off: bool) -> str:
    """Return the name a batch request stores for its stock, or raise (the largest code a stamp makes must fit)."""
    return services.checked_stock(name, scratch_off, None)
