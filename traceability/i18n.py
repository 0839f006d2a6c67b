"""Catalog helpers for the staff pages: marking msgids translated later, and WTForms' messages in Vietnamese.

WTForms ships no Vietnamese catalog, so its own messages ("This field is required.") would stay English on
a Vietnamese page. Forms derive from `Form`, which translates them through the site's catalog instead; the
messages our forms can show are listed here so that `pybabel extract` puts them in the catalog.
"""

from __future__ import annotations

from typing import Any

from flask_babel import get_translations
from flask_wtf import FlaskForm

from traceability.i18n_markers import N_, Nn_

__all__ = ["FORM_TRANSLATIONS", "N_", "Form", "FormTranslations", "Nn_"]


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
