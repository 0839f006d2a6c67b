"""Gettext markers with no imports, so that pure services can mark msgids without pulling in Flask."""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 - the usual name of a gettext marker
    """Mark text as a catalog msgid without translating it: it is translated where it is shown."""
    return text


def Nn_(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802 - the usual name of a gettext marker
    """Mark a singular and plural msgid pair without translating it."""
    return singular, plural
