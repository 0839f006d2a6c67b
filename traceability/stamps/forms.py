"""Producer forms, and how a domain error lands on the field it names."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from traceability.forms import Form


class BatchRequestForm(Form):
    product = SelectField(_l("Product"), coerce=int, validators=[InputRequired()], validate_choice=False)
    quantity = IntegerField(_l("Number of stamps"), validators=[InputRequired()])
    lot = StringField(_l("Lot code"), validators=[Optional(), Length(max=60)])
    production_date = DateField(_l("Production date"), validators=[Optional()])
    expiry_date = DateField(_l("Expiry date"), validators=[Optional()])
    layout = SelectField(_l("Sheet layout"), validators=[InputRequired()], validate_choice=False)
    scratch_off = BooleanField(_l("With scratch-off codes"))


class StampRangeForm(Form):
    first = StringField(_l("First stamp (number or serial)"), validators=[InputRequired(), Length(max=40)])
    last = StringField(_l("Last stamp (empty: just the first)"), validators=[Optional(), Length(max=40)])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)])
