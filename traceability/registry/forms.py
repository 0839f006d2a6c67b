"""The registry's forms: producers, raw-material areas, products, certifications, CSV import."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import ClassVar

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from traceability import labels
from traceability.forms import ChoicesForm
from traceability.registry.classification import PRODUCT_SETS
from traceability.registry.csv_import import KINDS
from traceability.registry.models import (
    AddressScheme,
    ApplicationType,
    AuthorityLevel,
    CertificationStatus,
    CodeScope,
    CodeStatus,
    ProducerType,
)


def _choices(enum_class: type[Enum], blank: bool = False) -> list[tuple[str, str]]:
    return labels.choices(enum_class, blank)


def _product_sets() -> list[tuple[str, str]]:
    vietnamese = str(get_locale()) == "vi"
    return [(key, f"{key} {ps.name_vi if vietnamese else ps.name_en}") for key, ps in PRODUCT_SETS.items()]


class AddressFields:
    commune = StringField(_l("Commune"), validators=[InputRequired(), Length(max=120)])
    district = StringField(_l("District (pre-2025 addresses only)"), validators=[Optional(), Length(max=120)])
    province_code = StringField(_l("Province code (2 digits)"), validators=[InputRequired(), Length(max=2)])
    province = StringField(_l("Province name (empty: from the code)"), validators=[Optional(), Length(max=120)])
    address_scheme = SelectField(_l("Address scheme"), validate_choice=False)


class ProducerForm(AddressFields, ChoicesForm):
    CHOICES: ClassVar[dict[str, Callable[[], list[tuple[str, str]]]]] = {
        "type": lambda: _choices(ProducerType),
        "address_scheme": lambda: _choices(AddressScheme),
    }
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=300)])
    short_name = StringField(_l("Short name (on stamps)"), validators=[Optional(), Length(max=24)])
    type = SelectField(_l("Type"), validate_choice=False)
    tax_code = StringField(_l("Tax code (MST)"), validators=[Optional(), Length(max=20)])
    address = StringField(_l("Street address"), validators=[Optional(), Length(max=500)])
    address_as_of = DateField(_l("Address as of"), validators=[InputRequired()])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254)])


class AreaForm(AddressFields, ChoicesForm):
    CHOICES: ClassVar[dict[str, Callable[[], list[tuple[str, str]]]]] = {
        "address_scheme": lambda: _choices(AddressScheme),
        "code_scope": lambda: _choices(CodeScope, blank=True),
        "code_status": lambda: _choices(CodeStatus, blank=True),
    }
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=300)])
    material = StringField(_l("Crop or material"), validators=[InputRequired(), Length(max=200)])
    growing_area_code = StringField(_l("Growing-area code"), validators=[Optional(), Length(max=80)])
    code_issuer = StringField(_l("Code issued by"), validators=[Optional(), Length(max=200)])
    code_scope = SelectField(_l("Code scope"), validate_choice=False)
    code_issued_on = DateField(_l("Code issued on"), validators=[Optional()])
    code_status = SelectField(_l("Code status"), validate_choice=False)
    latitude = StringField(_l("Latitude"), validators=[Optional(), Length(max=20)])
    longitude = StringField(_l("Longitude"), validators=[Optional(), Length(max=20)])
    size_ha = StringField(_l("Size (ha)"), validators=[Optional(), Length(max=20)])
    certifications = StringField(_l("Certifications (VietGAP, organic…; separate with ;)"), validators=[Optional()])
    producers = StringField(_l("Producers supplied (codes, separate with ;)"), validators=[Optional()])


class ProductForm(ChoicesForm):
    CHOICES: ClassVar[dict[str, Callable[[], list[tuple[str, str]]]]] = {
        "product_set": _product_sets,
    }
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=300)])
    producer = StringField(_l("Producer code"), validators=[InputRequired(), Length(max=40)])
    product_set = SelectField(_l("Product set"), validate_choice=False)
    gtin = StringField(_l("GTIN (optional)"), validators=[Optional(), Length(max=20)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    areas = StringField(_l("Raw-material areas (codes, separate with ;)"), validators=[Optional()])


class CertificationForm(ChoicesForm):
    CHOICES: ClassVar[dict[str, Callable[[], list[tuple[str, str]]]]] = {
        "authority_level": lambda: _choices(AuthorityLevel),
        "application_type": lambda: _choices(ApplicationType),
    }
    stars = IntegerField(_l("Stars"), validators=[InputRequired()])
    score = StringField(_l("Score (0–100)"), validators=[InputRequired(), Length(max=10)])
    decision_number = StringField(_l("Decision number"), validators=[InputRequired(), Length(max=60)])
    decision_date = DateField(_l("Decision date"), validators=[InputRequired()])
    authority = StringField(_l("Issuing authority"), validators=[InputRequired(), Length(max=200)])
    authority_level = SelectField(_l("Authority level"), validate_choice=False)
    application_type = SelectField(_l("Application"), validate_choice=False)


class CertificationStatusForm(ChoicesForm):
    CHOICES: ClassVar[dict[str, Callable[[], list[tuple[str, str]]]]] = {
        "status": lambda: _choices(CertificationStatus),
    }
    status = SelectField(_l("New status"), validate_choice=False)
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(), Length(max=2000)])


class ImportForm(ChoicesForm):
    CHOICES: ClassVar[dict[str, Callable[[], list[tuple[str, str]]]]] = {
        "kind": lambda: [(k, labels.import_kind(k)) for k in KINDS]
    }
    kind = SelectField(_l("The file holds"), validate_choice=False)
    file = FileField(_l("CSV file (UTF-8)"), validators=[FileRequired()])
