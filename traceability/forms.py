"""The forms every page builds on: WTForms' messages in the reader's language, and domain errors on fields.

WTForms ships no Vietnamese catalog, so its own messages ("This field is required.") would stay English on
a Vietnamese page. Forms derive from `Form`, which translates them through the site's catalog instead; the
messages our forms can show are listed here so that `pybabel extract` puts them in the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from traceability.errors import DomainError
from traceability.i18n import N_, Nn_

WTFORMS_MESSAGES = (
    N_("This field is required."),
    N_("Not a valid integer value."),
    N_("Not a valid date value."),
    N_("Not a valid choice."),
    Nn_("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters."),
)


class FormTranslations:
    """WTForms' translations interface over the request's catalog (WTForms applies the placeholders itself)."""

    def gettext(self, string: str) -> str:
        return str(get_translations().ugettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(get_translations().ungettext(singular, plural, n))


FORM_TRANSLATIONS = FormTranslations()


class Form(FlaskForm):  # type: ignore[misc]
    """A Flask-WTF form whose built-in messages come from the site's catalog."""

    class Meta:
        def get_translations(self, form: Any) -> FormTranslations:
            return FORM_TRANSLATIONS


def show_error(form: Any, error: DomainError, aliases: Mapping[str, str] | None = None) -> None:
    """Attach a domain error to the form field it names (or its alias on this form), or to the whole form."""
    field_name = error.details.get("field")
    if isinstance(field_name, str) and aliases:
        field_name = aliases.get(field_name, field_name)
    field = getattr(form, field_name, None) if isinstance(field_name, str) else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.localized()]
    else:
        form.form_errors.append(error.localized())


class ChoicesForm(Form):
    """A form whose select fields get their options after construction.

    WTForms 3.3 warns about (value, label) tuples passed to the constructor, but not when set afterwards.
    """

    CHOICES: ClassVar[dict[str, Callable[[], list[tuple[str, str]]]]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, options in self.CHOICES.items():
            getattr(self, name).choices = options()


class ConfirmForm(Form):
    """A button with nothing to fill in but the CSRF token."""


class ReasonForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(), Length(max=2000)])
