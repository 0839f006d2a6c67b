"""What every page calls stored enum values, as English msgids translated when shown: the one place for them.

Templates use the `label` filter (`{{ user.role | label }}`), code calls `label(value)` (the public
verification page does, through verification/texts.py); forms build their select options with
`choices(EnumClass)`. A value without a name here is shown as it is stored.
"""

from __future__ import annotations

from enum import Enum

from flask_babel import gettext

from traceability.accounts.models import Role
from traceability.i18n import N_
from traceability.registry.models import (
    AddressScheme,
    ApplicationType,
    AuthorityLevel,
    CertificationStatus,
    CodeScope,
    CodeStatus,
    PhotoStatus,
    ProducerType,
)
from traceability.stamps.models import KeyStatus

LABELS: dict[Enum, str] = {
    Role.ADMINISTRATOR: N_("administrator (programme office)"),
    Role.INSPECTOR: N_("inspector"),
    Role.PRODUCER: N_("producer"),
    # Shown on the public verification page too.
    ProducerType.COOPERATIVE: N_("Cooperative"),
    ProducerType.COOPERATIVE_GROUP: N_("Cooperative group"),
    ProducerType.ENTERPRISE: N_("Small or medium enterprise"),
    ProducerType.FARM: N_("Farm"),
    ProducerType.HOUSEHOLD: N_("Registered household business"),
    ProducerType.ASSOCIATION: N_("Association"),
    ProducerType.OPERATING_CENTRE: N_("Operating centre"),
    AddressScheme.PRE_2025: N_("before 1 July 2025 (63 provinces, with districts)"),
    AddressScheme.Y2025: N_("from 1 July 2025 (34 provinces, no districts)"),
    CodeScope.DOMESTIC: N_("domestic"),
    CodeScope.EXPORT: N_("export (PUC)"),
    CodeStatus.ACTIVE: N_("valid"),
    CodeStatus.SUSPENDED: N_("suspended"),
    CodeStatus.CANCELLED: N_("cancelled"),
    CertificationStatus.RECOGNIZED: N_("recognised"),
    CertificationStatus.EXPIRED: N_("expired"),
    CertificationStatus.IN_REEVALUATION: N_("in re-evaluation"),
    CertificationStatus.REVOKED: N_("revoked"),
    CertificationStatus.SUPERSEDED: N_("superseded"),
    ApplicationType.FIRST: N_("first evaluation"),
    ApplicationType.UPGRADE: N_("upgrade to more stars"),
    ApplicationType.REEVALUATION: N_("re-evaluation"),
    AuthorityLevel.NATIONAL: N_("national (5 stars)"),
    AuthorityLevel.PROVINCIAL: N_("provincial (3 and 4 stars)"),
    AuthorityLevel.DISTRICT: N_("district (3 stars, before 6 July 2025)"),
    PhotoStatus.PENDING: N_("waiting for review"),
    PhotoStatus.APPROVED: N_("shown to shoppers"),
    PhotoStatus.REJECTED: N_("rejected"),
    PhotoStatus.REPLACED: N_("replaced by a newer photo"),
    KeyStatus.ACTIVE: N_("in use"),
    KeyStatus.RETIRED: N_("retired"),
    KeyStatus.COMPROMISED: N_("compromised"),
}

# Batch and stamp-range states by stored value (the two share "issued" and "revoked"): the names every staff page
# and the audit log give them. A batch waiting for the office reads "waiting for approval", not "requested".
STATE_LABELS: dict[str, str] = {
    "requested": N_("waiting for approval"),
    "rejected": N_("rejected"),
    "issued": N_("issued"),
    "revoked": N_("revoked"),
    "printed": N_("printed"),
    "activated": N_("activated"),
    "voided": N_("voided"),
}

# What the registry's CSV import can hold (traceability/registry/csv_import.KINDS).
IMPORT_KINDS = {
    "producers": N_("Producers"),
    "areas": N_("Raw-material areas"),
    "products": N_("Products"),
    "certifications": N_("Certifications"),
}


def label(value: Enum | None) -> str:
    """Return the name of a stored enum value in the request's language ("" for None)."""
    if value is None:
        return ""
    text = LABELS.get(value)
    return gettext(text) if text else str(value.value).replace("_", " ")


def choices(enum_class: type[Enum], blank: bool = False) -> list[tuple[str, str]]:
    """Return (stored value, name) select options for every member of enum_class, with an empty one first."""
    options = [(str(member.value), label(member)) for member in enum_class]
    return [("", "—"), *options] if blank else options


def import_kind(name: str) -> str:
    """Return the name of a kind of CSV import."""
    text = IMPORT_KINDS.get(name)
    return gettext(text) if text else name


def state_label(value: str) -> str:
    """Return the name of a stored batch or stamp-range state in the request's language (as stored if unknown)."""
    text = STATE_LABELS.get(value)
    return gettext(text) if text else value
