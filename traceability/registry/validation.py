"""Identifier checks for the registry, each returning the normalised value or raising ValidationError."""

from __future__ import annotations

import re

from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.vn import mst

from traceability.errors import ValidationError

_PERSONAL_ID = re.compile(r"[0-9]{12}")


def tax_code(value: str, *, household: bool = False) -> str:
    """Validate a Vietnamese tax code (MST: 10 digits with check digit, or 13 with a branch suffix).

    Household businesses register with the holder's 12-digit personal ID since 2025-07-01.
    """
    compact = re.sub(r"[\s.]", "", value)
    if household and _PERSONAL_ID.fullmatch(compact):
        return compact
    try:
        return str(mst.validate(compact))
    except StdnumError as error:
        hint = " or a 12-digit personal ID" if household else ""
        raise ValidationError(
            f"'{value}' is not a valid tax code (10 digits with a correct check digit, or 13 as 0123456789-001"
            f"{hint}): {error}",
            field="tax_code",
        ) from error


def gtin(value: str) -> str:
    """Validate a GTIN-8/12/13/14 and its check digit."""
    compact = re.sub(r"\s", "", value)
    if len(compact) not in (8, 12, 13, 14):
        raise ValidationError(f"'{value}' is not a GTIN: it needs 8, 12, 13 or 14 digits", field="gtin")
    try:
        return str(ean.validate(compact))
    except StdnumError as error:
        raise ValidationError(f"'{value}' is not a valid GTIN: {error}", field="gtin") from error


def code(value: str, field: str = "code") -> str:
    """Validate one of our own record codes: letters, digits and dashes, 2 to 40 characters."""
    compact = value.strip().upper()
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9\-]{1,39}", compact):
        raise ValidationError(f"'{value}' is not a valid code: use 2-40 letters, digits or dashes", field=field)
    return compact


def required_text(value: str | None, field: str, max_length: int = 300) -> str:
    """Return stripped text, refusing empty or over-long values."""
    text = (value or "").strip()
    if not text:
        raise ValidationError(f"{field.replace('_', ' ')} is required", field=field)
    if len(text) > max_length:
        raise ValidationError(f"{field.replace('_', ' ')} is longer than {max_length} characters", field=field)
    return text
