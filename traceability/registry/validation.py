"""Input checks for the registry, each returning the normalised value or raising ValidationError."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TypeVar

from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.vn import mst

from traceability.errors import Term, ValidationError
from traceability.i18n import N_
from traceability.registry.models import AddressScheme
from traceability.registry.places import province_name

E = TypeVar("E", bound=Enum)

GTIN_LENGTH = 14
_PERSONAL_ID = re.compile(r"[0-9]{12}")

# The registry's input fields as messages name them ("short_name" is "short name"), translated when shown.
FIELD_NAMES = (
    N_("address scheme"),
    N_("application type"),
    N_("authority"),
    N_("authority level"),
    N_("code scope"),
    N_("code status"),
    N_("commune"),
    N_("decision number"),
    N_("latitude"),
    N_("longitude"),
    N_("material"),
    N_("name"),
    N_("reason"),
    N_("score"),
    N_("short name"),
    N_("size ha"),
    N_("status"),
    N_("type"),
)


def field_name(field: str) -> Term:
    """Return how a message names the input field (a msgid translated along with the message)."""
    return Term(field.replace("_", " "))


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
        message = (
            N_(
                "'%(value)s' is not a valid tax code (10 digits with a correct check digit, or 13 as "
                "0123456789-001 or a 12-digit personal ID): %(error)s"
            )
            if household
            else N_(
                "'%(value)s' is not a valid tax code (10 digits with a correct check digit, or 13 as "
                "0123456789-001): %(error)s"
            )
        )
        raise ValidationError(message, field="tax_code", params={"value": value, "error": str(error)}) from error


def gtin(value: str) -> str:
    """Validate a GTIN-8/12/13/14 and its check digit; return it as GTIN-14.

    GS1 pads shorter GTINs with leading zeros to 14 digits, and 8936123450014 and 08936123450014 are the same
    trade item: storing one form is what lets the registry see that two products claim it.
    """
    compact = re.sub(r"\s", "", value)
    if len(compact) not in (8, 12, 13, GTIN_LENGTH):
        raise ValidationError(
            N_("'%(value)s' is not a GTIN: it needs 8, 12, 13 or 14 digits"), field="gtin", params={"value": value}
        )
    try:
        return str(ean.validate(compact)).zfill(GTIN_LENGTH)
    except StdnumError as error:
        raise ValidationError(
            N_("'%(value)s' is not a valid GTIN: %(error)s"), field="gtin", params={"value": value, "error": str(error)}
        ) from error


def code(value: str, field: str = "code") -> str:
    """Validate one of our own record codes: letters, digits and dashes, 2 to 40 characters."""
    compact = value.strip().upper()
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9\-]{1,39}", compact):
        raise ValidationError(
            N_("'%(value)s' is not a valid code: use 2-40 letters, digits or dashes"),
            field=field,
            params={"value": value},
        )
    return compact


def required_text(value: str | None, field: str, max_length: int = 300) -> str:
    """Return stripped text, refusing empty or over-long values."""
    text = (value or "").strip()
    if not text:
        raise ValidationError(N_("%(field)s is required"), field=field, params={"field": field_name(field)})
    if len(text) > max_length:
        raise ValidationError(
            N_("%(field)s is longer than %(max_length)s characters"),
            field=field,
            params={"field": field_name(field), "max_length": max_length},
        )
    return text


def choice(enum_class: type[E], value: str | None, field: str) -> E:
    """Return the member of enum_class stored as value, refusing anything else with the list of choices."""
    try:
        return enum_class(value)
    except ValueError as error:
        choices = ", ".join(str(m.value) for m in enum_class)
        raise ValidationError(
            N_("%(field)s must be one of: %(choices)s"),
            field=field,
            params={"field": field_name(field), "choices": choices},
        ) from error


def decimal(value: Decimal | str | float | None, field: str) -> Decimal | None:
    """Return a finite number (None for an empty value), refusing text that is not one."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise ValidationError(N_("%(field)s must be a number"), field=field, params={"field": field_name(field)})
    return number


def address(scheme_value: str, province_code: str, province: str, district: str | None) -> tuple[AddressScheme, str]:
    """Return an address's scheme and province name (from the official code when not given)."""
    scheme = choice(AddressScheme, scheme_value, "address_scheme")
    if not (len(province_code) == 2 and province_code.isdigit()):
        raise ValidationError(N_("province code is the 2-digit official code, e.g. 58"), field="province_code")
    if scheme is AddressScheme.Y2025 and district:
        raise ValidationError(N_("addresses under the 2025 scheme have no district"), field="district")
    name = province.strip() or province_name(scheme.value, province_code)
    if not name:
        raise ValidationError(
            N_("unknown province code %(code)s: give the province name"),
            field="province",
            params={"code": province_code},
        )
    return scheme, name
