"""Accounts' forms: logging in, and a user as the office creates one."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from traceability import labels
from traceability.accounts.models import Role
from traceability.forms import ChoicesForm, Form


class LoginForm(Form):
    email = EmailField(
        _l("Email"), validators=[DataRequired(), Length(max=254)], render_kw={"autocomplete": "username"}
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=1024)], render_kw={"autocomplete": "current-password"}
    )
    next = HiddenField()


class UserForm(ChoicesForm):
    # No role is preselected: the first would be administrator, the most powerful, one careless "Create" away.
    CHOICES: ClassVar[dict[str, Callable[[], list[tuple[str, str]]]]] = {
        "role": lambda: labels.choices(Role, blank=True)
    }
    email = EmailField(_l("Email"), validators=[InputRequired(), Length(max=254)])
    role = SelectField(_l("Role"), validators=[InputRequired()], validate_choice=False)
    producer = StringField(_l("Producer code (producer users only)"), validators=[Optional(), Length(max=40)])
    password = PasswordField(
        _l("Initial password"),
        validators=[InputRequired(), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
