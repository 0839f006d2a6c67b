"""Producer forms, and how a domain error lands on the field it names."""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from traceability.forms import Form

# The three ways to name label stock (printing/forms.py reads the fields into one stored layout name).
STOCK_KINDS = (
    ("named", _l("A standard layout")),
    ("template", _l("A label product (gLabels)")),
    ("custom", _l("My own label size")),
)


class StockFields(Form):
    """Label stock: a standard layout, a gLabels product found by a search, or dimensions typed in.

    Lengths are text, read by printing/forms.py, so that "62,5" (the Vietnamese decimal comma) is a length too.
    """

    stock = RadioField(_l("Label stock"), default="named", validate_choice=False)  # choices: STOCK_KINDS
    layout = SelectField(_l("Sheet layout"), validate_choice=False)  # also takes any stored layout name
    template_search = StringField(_l("Find a label product"), validators=[Optional(), Length(max=80)])
    find = SubmitField(_l("Find"))  # re-shows the form with the products matching template_search
    template = SelectField(_l("Label product"), validate_choice=False)
    page = SelectField(_l("Page"), validate_choice=False)
    landscape = BooleanField(_l("Landscape page"))
    label_width = StringField(_l("Label width (mm)"), validators=[Optional(), Length(max=12)])
    label_height = StringField(_l("Label height (mm)"), validators=[Optional(), Length(max=12)])
    columns = StringField(_l("Columns"), validators=[Optional(), Length(max=12)])
    rows = StringField(_l("Rows"), validators=[Optional(), Length(max=12)])
    margin_left = StringField(_l("Left margin (mm)"), validators=[Optional(), Length(max=12)])
    margin_top = StringField(_l("Top margin (mm)"), validators=[Optional(), Length(max=12)])
    gap_x = StringField(_l("Gap between columns (mm)"), validators=[Optional(), Length(max=12)])
    gap_y = StringField(_l("Gap between rows (mm)"), validators=[Optional(), Length(max=12)])
    dpi = StringField(_l("Printer resolution (dpi)"), validators=[Optional(), Length(max=12)])


class BatchRequestForm(StockFields):
    product = SelectField(_l("Product"), coerce=int, validators=[InputRequired()], validate_choice=False)
    quantity = IntegerField(_l("Number of stamps"), validators=[InputRequired()])
    lot = StringField(_l("Lot code"), validators=[Optional(), Length(max=60)])
    production_date = DateField(_l("Production date"), validators=[Optional()])
    expiry_date = DateField(_l("Expiry date"), validators=[Optional()])
    scratch_off = BooleanField(_l("With scratch-off codes"))


class StampRangeForm(Form):
    first = StringField(_l("First stamp (number or serial)"), validators=[InputRequired(), Length(max=40)])
    last = StringField(_l("Last stamp (empty: just the first)"), validators=[Optional(), Length(max=40)])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)])


class MarkedRequired:
    """Mark a field required (its label says so, the browser asks for it) and leave the check to the service.

    The service's own message ("say why the stamps are void") is clearer than a generic "this field is required".
    """

    field_flags: ClassVar[dict[str, bool]] = {"required": True}

    def __call__(self, form: Any, field: Any) -> None:
        return None


class ReasonedRangeForm(StampRangeForm):
    """Stamps to void or revoke: the reason is required, and shoppers or the office read it."""

    reason = TextAreaField(_l("Reason"), validators=[MarkedRequired(), Length(max=500)])
