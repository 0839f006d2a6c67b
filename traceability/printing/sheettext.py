"""The words printed on sheets and run tickets, in the batch's language (Vietnamese unless asked otherwise).

Printed matter, not the interface: kept here rather than in the gettext catalogs so that a catalog edit never
changes the bytes of a reprint, and the worker processes need no Flask.
"""

from __future__ import annotations

from traceability.errors import ValidationError
from traceability.i18n import N_

DEFAULT_LANGUAGE = "vi"

SHEET_TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "batch": "lô tem {batch}",
        "lot": "{batch} · số lô {lot}",
        "layout": "khổ {layout}",
        "serials": "số sê-ri {first} – {last}",
        "stamps": "{count} tem",
        "sheet": "tờ {sheet}/{total}",
        "ticket": "Phiếu in OCOP",
        "not_a_stamp": "không phải tem",
        "first_serial": "sê-ri đầu tiên",
        "title": "Tem OCOP, lô tem {batch}, khổ {layout}",
    },
    "en": {
        "batch": "batch {batch}",
        "lot": "{batch} · lot {lot}",
        "layout": "layout {layout}",
        "serials": "serials {first} – {last}",
        "stamps": "{count} stamps",
        "sheet": "sheet {sheet}/{total}",
        "ticket": "OCOP run ticket",
        "not_a_stamp": "not a stamp",
        "first_serial": "first serial",
        "title": "OCOP stamps, batch {batch}, {layout}",
    },
}
LANGUAGES = tuple(SHEET_TEXT)


class LanguageUnknown(ValidationError):
    code = "print_language_unknown"


def check_language(language: str) -> str:
    """Return the language if sheets can be printed in it, else raise LanguageUnknown."""
    if language not in SHEET_TEXT:
        raise LanguageUnknown(
            N_("sheets can be printed in %(languages)s, not '%(language)s'"),
            field="language",
            params={"languages": ", ".join(LANGUAGES), "language": language},
        )
    return language


def sheet_text(language: str, key: str, **values: object) -> str:
    """Return one printed phrase in the language, filled in."""
    return SHEET_TEXT[language][key].format(**values)
