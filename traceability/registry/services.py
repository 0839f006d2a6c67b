"""Registry services: create, find and check producers, areas, products and certifications.

Every function takes the session first and never commits: the request or command owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from traceability.db import utcnow
from traceability.errors import Conflict, NotFound, Term, ValidationError
from traceability.i18n import N_
from traceability.registry import certification_rules, validation
from traceability.registry.classification import is_product_set
from traceability.registry.models import (
    ApplicationType,
    AuthorityLevel,
    Certification,
    CertificationStatus,
    CodeScope,
    CodeStatus,
    MaterialArea,
    Producer,
    ProducerType,
    Product,
)

# Certification states as ProductNotCertified names them, translated when shown (errors.Term).
CERTIFICATION_STATES = (N_("recognized"), N_("expired"), N_("in_reevaluation"), N_("revoked"), N_("superseded"))


class ProductNotCertified(Conflict):
    """Stamps are issued only for a product holding a valid certification of 3 stars or more."""

    code = "product_not_certified"


class ProductNotFound(NotFound):
    """No product has this code."""

    code = "product_not_found"


class DuplicateTaxCode(Conflict):
    """Another producer is registered under this tax code."""

    code = "duplicate_tax_code"


class DuplicateGtin(Conflict):
    """Another product carries this GTIN (compared as GTIN-14, so padded and unpadded forms are one)."""

    code = "duplicate_gtin"


@dataclass
class ProducerData:
    code: str
    name: str
    type: str
    commune: str
    province_code: str
    address_scheme: str
    address_as_of: date
    province: str = ""
    short_name: str = ""
    tax_code: str | None = None
    address: str = ""
    district: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass
class AreaData:
    code: str
    name: str
    material: str
    commune: str
    province_code: str
    address_scheme: str
    province: str = ""
    district: str | None = None
    growing_area_code: str | None = None
    code_issuer: str | None = None
    code_scope: str | None = None
    code_issued_on: date | None = None
    code_status: str | None = None
    latitude: Decimal | str | float | None = None
    longitude: Decimal | str | float | None = None
    size_ha: Decimal | str | float | None = None
    certifications: list[str] = field(default_factory=list)
    producers: list[str] = field(default_factory=list)


@dataclass
class ProductData:
    code: str
    name: str
    producer: str
    product_set: str
    gtin: str | None = None
    description: str = ""
    areas: list[str] = field(default_factory=list)


@dataclass
class CertificationData:
    stars: int
    score: Decimal | str | float
    decision_number: str
    decision_date: date
    authority: str
    authority_level: str
    application_type: str = "first"


def producer_by_code(session: Session, code: str) -> Producer | None:
    """Return the producer with this code, if any."""
    return session.scalar(select(Producer).where(Producer.code == code.strip().upper()))


def product_by_code(session: Session, code: str) -> Product | None:
    """Return the product with this code, if any."""
    return session.scalar(select(Product).where(Product.code == code.strip().upper()))


def area_by_code(session: Session, code: str) -> MaterialArea | None:
    """Return the raw-material area with this code, if any."""
    return session.scalar(select(MaterialArea).where(MaterialArea.code == code.strip().upper()))


def product_or_404(session: Session, code: str) -> Product:
    """Return the product with this code or raise NotFound."""
    product = product_by_code(session, code)
    if product is None:
        raise ProductNotFound(N_("no product has the code '%(code)s'"), params={"code": code})
    return product


def save_producer(session: Session, data: ProducerData, *, is_demo: bool = False) -> Producer:
    """Create a producer, or update the one with the same code."""
    code = validation.code(data.code)
    producer_type = validation.choice(ProducerType, data.type, "type")
    scheme, province = validation.address(data.address_scheme, data.province_code, data.province, data.district)
    tax_code = (
        validation.tax_code(data.tax_code, household=producer_type is ProducerType.HOUSEHOLD) if data.tax_code else None
    )
    if tax_code:
        other = session.scalar(select(Producer).where(Producer.tax_code == tax_code, Producer.code != code))
        if other is not None:
            raise DuplicateTaxCode(
                N_("tax code %(tax_code)s already belongs to producer %(producer)s"),
                field="tax_code",
                params={"tax_code": tax_code, "producer": other.code},
            )
    name = validation.required_text(data.name, "name")
    producer = producer_by_code(session, code) or Producer(code=code)
    producer.name = name
    producer.short_name = validation.required_text(data.short_name or name[:24], "short_name", 24)
    producer.type = producer_type
    producer.tax_code = tax_code
    producer.address = (data.address or "").strip()
    producer.commune = validation.required_text(data.commune, "commune", 120)
    producer.district = (data.district or "").strip() or None
    producer.province = province
    producer.province_code = data.province_code
    producer.address_scheme = scheme
    producer.address_as_of = data.address_as_of
    producer.phone = data.phone or None
    producer.email = data.email or None
    producer.is_demo = is_demo
    session.add(producer)
    session.flush()
    return producer


def save_area(session: Session, data: AreaData, *, is_demo: bool = False) -> MaterialArea:
    """Create a raw-material area, or update the one with the same code."""
    code = validation.code(data.code)
    scheme, province = validation.address(data.address_scheme, data.province_code, data.province, data.district)
    producers = []
    for producer_code in data.producers:
        producer = producer_by_code(session, producer_code)
        if producer is None:
            raise ValidationError(
                N_("area %(area)s names unknown producer '%(producer)s'"),
                field="producers",
                params={"area": code, "producer": producer_code},
            )
        producers.append(producer)
    size = validation.decimal(data.size_ha, "size_ha")
    if size is not None and size <= 0:
        raise ValidationError(N_("size in hectares must be greater than 0"), field="size_ha")
    latitude, longitude = validation.decimal(data.latitude, "latitude"), validation.decimal(data.longitude, "longitude")
    if (latitude is None) != (longitude is None):
        raise ValidationError(N_("give both latitude and longitude, or neither"), field="latitude")
    if latitude is not None and not Decimal(-90) <= latitude <= Decimal(90):
        raise ValidationError(N_("latitude must be between -90 and 90"), field="latitude")
    if longitude is not None and not Decimal(-180) <= longitude <= Decimal(180):
        raise ValidationError(N_("longitude must be between -180 and 180"), field="longitude")
    area = area_by_code(session, code) or MaterialArea(code=code)
    area.name = validation.required_text(data.name, "name")
    area.material = validation.required_text(data.material, "material", 200)
    # The growing-area code stays opaque: pre-2025 codes embed district codes that no longer exist.
    area.growing_area_code = (data.growing_area_code or "").strip() or None
    area.code_issuer = data.code_issuer or None
    area.code_scope = validation.choice(CodeScope, data.code_scope, "code_scope") if data.code_scope else None
    area.code_issued_on = data.code_issued_on
    area.code_status = validation.choice(CodeStatus, data.code_status, "code_status") if data.code_status else None
    area.commune = validation.required_text(data.commune, "commune", 120)
    area.district = (data.district or "").strip() or None
    area.province = province
    area.province_code = data.province_code
    area.address_scheme = scheme
    area.latitude, area.longitude, area.size_ha = latitude, longitude, size
    area.certifications = [c.strip() for c in data.certifications if c.strip()]
    area.producers = producers
    area.is_demo = is_demo
    session.add(area)
    session.flush()
    return area


def save_product(session: Session, data: ProductData, *, is_demo: bool = False) -> Product:
    """Create a product, or update the one with the same code."""
    code = validation.code(data.code)
    producer = producer_by_code(session, data.producer)
    if producer is None:
        raise ValidationError(
            N_("unknown producer '%(producer)s'"), field="producer", params={"producer": data.producer}
        )
    if not is_product_set(data.product_set):
        raise ValidationError(
            N_("unknown product set '%(product_set)s'"), field="product_set", params={"product_set": data.product_set}
        )
    gtin = validation.gtin(data.gtin) if data.gtin else None
    if gtin:
        other = session.scalar(select(Product).where(Product.gtin == gtin, Product.code != code))
        if other is not None:
            raise DuplicateGtin(
                N_("GTIN %(gtin)s already belongs to product %(product)s"),
                field="gtin",
                params={"gtin": gtin, "product": other.code},
            )
    areas = []
    for area_code in data.areas:
        area = area_by_code(session, area_code)
        if area is None:
            raise ValidationError(
                N_("product %(product)s names unknown area '%(area)s'"),
                field="areas",
                params={"product": code, "area": area_code},
            )
        areas.append(area)
    product = product_by_code(session, code) or Product(code=code)
    product.name = validation.required_text(data.name, "name")
    product.producer = producer
    product.product_set = data.product_set
    product.gtin = gtin
    product.description = (data.description or "").strip()
    product.areas = areas
    product.is_demo = is_demo
    session.add(product)
    session.flush()
    return product


def add_certification(
    session: Session, product: Product, data: CertificationData, *, is_demo: bool = False
) -> Certification:
    """Record a certification decision; it supersedes the product's earlier live certifications.

    Re-recording the same decision number for the same product returns the existing record, so imports
    can run twice.
    """
    decision_number = validation.required_text(data.decision_number, "decision_number", 60)
    existing = session.scalar(
        select(Certification).where(
            Certification.product_id == product.id, Certification.decision_number == decision_number
        )
    )
    if existing is not None:
        return existing
    level = validation.choice(AuthorityLevel, data.authority_level, "authority_level")
    score = validation.decimal(data.score, "score")
    if score is None:
        raise ValidationError(N_("score is required"), field="score")
    try:
        stars = int(data.stars)
    except (TypeError, ValueError) as error:
        raise ValidationError(N_("stars must be 3, 4 or 5"), field="stars") from error
    certification_rules.check(stars, score, level, data.decision_date)
    for earlier in product.certifications:
        live = earlier.status in (CertificationStatus.RECOGNIZED, CertificationStatus.IN_REEVALUATION)
        if live and earlier.decision_date <= data.decision_date:
            earlier.status = CertificationStatus.SUPERSEDED
            earlier.status_changed_at = utcnow()
            earlier.status_reason = f"superseded by {decision_number}"
    certification = Certification(
        product=product,
        stars=stars,
        score=score,
        application_type=validation.choice(ApplicationType, data.application_type, "application_type"),
        decision_number=decision_number,
        decision_date=data.decision_date,
        authority=validation.required_text(data.authority, "authority", 200),
        authority_level=level,
        valid_until=certification_rules.valid_until(data.decision_date),
        status=CertificationStatus.RECOGNIZED,
        is_demo=is_demo,
    )
    session.add(certification)
    session.flush()
    return certification


def set_certification_status(session: Session, certification: Certification, status: str, reason: str) -> Certification:
    """Move a certification to a new status (revoked, in re-evaluation...) with the reason recorded."""
    certification.status = validation.choice(CertificationStatus, status, "status")
    certification.status_reason = validation.required_text(reason, "reason", 2000)
    certification.status_changed_at = utcnow()
    session.flush()
    return certification


def current_certification(product: Product, day: date) -> Certification | None:
    """Return the certification that lets the product carry stamps on day, if any."""
    valid = [c for c in product.certifications if certification_rules.is_valid_on(c, day)]
    return max(valid, key=lambda c: c.decision_date, default=None)


def latest_certification(product: Product) -> Certification | None:
    """Return the product's most recent certification, valid or not."""
    return max(product.certifications, key=lambda c: c.decision_date, default=None)


def require_stampable(product: Product, day: date) -> Certification:
    """Return the product's valid certification or raise ProductNotCertified with the reason."""
    certification = current_certification(product, day)
    if certification is not None:
        return certification
    latest = latest_certification(product)
    if latest is None:
        raise ProductNotCertified(
            N_("product %(product)s has no OCOP certification; stamps need 3 stars or more"),
            params={"product": product.code},
        )
    status = certification_rules.effective_status(latest, day)
    raise ProductNotCertified(
        N_(
            "product %(product)s's certification %(decision)s is %(status)s (valid until %(valid_until)s); "
            "stamps need a valid certification"
        ),
        params={
            "product": product.code,
            "decision": latest.decision_number,
            "status": Term(status.value),
            "valid_until": latest.valid_until.isoformat(),
        },
    )


def list_products(session: Session, producer: Producer | None = None) -> Sequence[Product]:
    """Return products (optionally of one producer) with producers and certifications loaded."""
    query = (
        select(Product)
        .options(selectinload(Product.producer), selectinload(Product.certifications), selectinload(Product.areas))
        .order_by(Product.code)
    )
    if producer is not None:
        query = query.where(Product.producer_id == producer.id)
    return session.scalars(query).all()


def list_producers(session: Session) -> Sequence[Producer]:
    """Return all producers ordered by code."""
    return session.scalars(select(Producer).order_by(Producer.code)).all()
