"""The form that asks for a batch's print file: which file, on which sheet layout."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField
from wtforms.validators import InputRequired

from traceability.forms import Form
from traceability.printing import services
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
}


class PrintForm(Form):
    # The job service checks the layout against the printing package's own list and names the valid ones.
    layout = SelectField(_l("Sheet layout"), validators=[InputRequired()], validate_choice=False)
    format = RadioField(_l("File"), default="pdf")  # choices: FILE_KINDS, set by print_form()


def print_form(batch: Batch, layouts: Sequence[tuple[str, str]]) -> PrintForm:
    """Return the form for a batch: the layouts offered, the batch's own layout chosen unless one was posted."""
    form = PrintForm()
    form.layout.choices = list(layouts)
    form.format.choices = [(name, label) for name, (label, _what) in FILE_KINDS.items()]
    if not form.is_submitted():
        form.layout.data = services.layout_for(batch).name
    return form
