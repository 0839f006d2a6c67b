"""The OCOP registry: producers, raw-material areas, products and their certifications."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceability.db import Base, enum_type, utcnow


class ProducerType(enum.Enum):
    COOPERATIVE = "cooperative"  # hợp tác xã
    COOPERATIVE_GROUP = "cooperative_group"  # tổ hợp tác
    ENTERPRISE = "enterprise"  # doanh nghiệp nhỏ và vừa
    FARM = "farm"  # trang trại
    HOUSEHOLD = "household"  # hộ sản xuất có đăng ký kinh doanh
    ASSOCIATION = "association"  # hội, hiệp hội (tourism)
    OPERATING_CENTRE = "operating_centre"  # trung tâm điều hành (tourism)


class AddressScheme(enum.Enum):
    """Which administrative map an address was written against (NQ 202/2025/QH15 changed it)."""

    PRE_2025 = "pre2025"  # 63 provinces, districts, communes
    Y2025 = "2025"  # 34 provinces, communes, no districts (from 2025-07-01)


class CodeScope(enum.Enum):
    DOMESTIC = "domestic"
    EXPORT = "export"  # PUC, approved by the importing country


class CodeStatus(enum.Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


class CertificationStatus(enum.Enum):
    RECOGNIZED = "recognized"
    EXPIRED = "expired"
    IN_REEVALUATION = "in_reevaluation"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


class ApplicationType(enum.Enum):
    FIRST = "first"  # lần đầu
    UPGRADE = "upgrade"  # nâng hạng
    REEVALUATION = "reevaluation"  # đánh giá lại


class PhotoStatus(enum.Enum):
    PENDING = "pending"  # uploaded by the producer, not yet seen by the office
    APPROVED = "approved"  # shown on the public page (one per product)
    REJECTED = "rejected"  # refused, or withdrawn after approval; the reason says why
    REPLACED = "replaced"  # was approved until a newer photo was approved


class AuthorityLevel(enum.Enum):
    NATIONAL = "national"  # the Ministry's council: 5 stars
    PROVINCIAL = "provincial"  # UBND tỉnh: 3 and 4 stars
    DISTRICT = "district"  # 3 stars before QĐ 1489/QĐ-TTg (2025-07-06)


area_producers = Table(
    "area_producers",
    Base.metadata,
    Column("area_id", ForeignKey("material_areas.id", ondelete="CASCADE"), primary_key=True),
    Column("producer_id", ForeignKey("producers.id", ondelete="CASCADE"), primary_key=True),
)

product_areas = Table(
    "product_areas",
    Base.metadata,
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("material_areas.id", ondelete="CASCADE"), primary_key=True),
)


class AddressMixin:
    """An address exactly as issued, with the scheme and date it was written against."""

    address: Mapped[str] = mapped_column(String(500), default="")
    commune: Mapped[str] = mapped_column(String(120))
    district: Mapped[str | None] = mapped_column(String(120))
    province: Mapped[str] = mapped_column(String(120))
    province_code: Mapped[str] = mapped_column(String(2))
    address_scheme: Mapped[AddressScheme] = mapped_column(enum_type(AddressScheme))
    address_as_of: Mapped[date]


class Producer(AddressMixin, Base):
    __tablename__ = "producers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str] = mapped_column(String(60))
    type: Mapped[ProducerType] = mapped_column(enum_type(ProducerType))
    tax_code: Mapped[str | None] = mapped_column(String(20), unique=True)
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None]
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    products: Mapped[list[Product]] = relationship(back_populates="producer", order_by="Product.code")
    areas: Mapped[list[MaterialArea]] = relationship(
        secondary=area_producers, back_populates="producers", order_by="MaterialArea.code"
    )


class MaterialArea(Base):
    """A raw-material (growing) area; its growing-area code is opaque: old codes name dead districts."""

    __tablename__ = "material_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    material: Mapped[str] = mapped_column(String(200))
    growing_area_code: Mapped[str | None] = mapped_column(String(80))
    code_issuer: Mapped[str | None] = mapped_column(String(200))
    code_scope: Mapped[CodeScope | None] = mapped_column(enum_type(CodeScope))
    code_issued_on: Mapped[date | None]
    code_status: Mapped[CodeStatus | None] = mapped_column(enum_type(CodeStatus))
    commune: Mapped[str] = mapped_column(String(120))
    district: Mapped[str | None] = mapped_column(String(120))
    province: Mapped[str] = mapped_column(String(120))
    province_code: Mapped[str] = mapped_column(String(2))
    address_scheme: Mapped[AddressScheme] = mapped_column(enum_type(AddressScheme))
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    boundary_geojson: Mapped[str | None] = mapped_column(Text)
    size_ha: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    certifications: Mapped[list[str]] = mapped_column(JSON, default=list)  # VietGAP, organic...
    is_demo: Mapped[bool] = mapped_column(default=False)

    producers: Mapped[list[Producer]] = relationship(
        secondary=area_producers, back_populates="areas", order_by="Producer.code"
    )

    __table_args__ = (
        CheckConstraint("size_ha IS NULL OR size_ha > 0", name="size_positive"),
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude_range"),
    )


class Product(Base):
    __tablename__ = "products"

    # Product ids travel inside every stamp as a 24-bit reference (stamp-format.md).
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    producer_id: Mapped[int] = mapped_column(ForeignKey("producers.id"), index=True)
    product_set: Mapped[str] = mapped_column(String(16))  # classification key, e.g. "I.3.a"
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    image_url: Mapped[str | None] = mapped_column(String(500))
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    producer: Mapped[Producer] = relationship(back_populates="products")
    areas: Mapped[list[MaterialArea]] = relationship(secondary=product_areas, order_by="MaterialArea.code")
    certifications: Mapped[list[Certification]] = relationship(
        back_populates="product", order_by="Certification.decision_date.desc()"
    )

    __table_args__ = (CheckConstraint("id < 16777216", name="id_fits_stamp"),)


class Certification(Base):
    """One OCOP decision for one product; never rewritten, only superseded, expired or revoked."""

    __tablename__ = "certifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    stars: Mapped[int]
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    application_type: Mapped[ApplicationType] = mapped_column(enum_type(ApplicationType))
    decision_number: Mapped[str] = mapped_column(String(60))
    decision_date: Mapped[date]
    authority: Mapped[str] = mapped_column(String(200))
    authority_level: Mapped[AuthorityLevel] = mapped_column(enum_type(AuthorityLevel))
    valid_until: Mapped[date]
    status: Mapped[CertificationStatus] = mapped_column(enum_type(CertificationStatus))
    status_changed_at: Mapped[datetime | None]
    status_reason: Mapped[str | None] = mapped_column(Text)
    is_demo: Mapped[bool] = mapped_column(default=False)

    product: Mapped[Product] = relationship(back_populates="certifications")

    __table_args__ = (
        CheckConstraint("stars BETWEEN 3 AND 5", name="stars_certified"),
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
        CheckConstraint("valid_until > decision_date", name="validity_after_decision"),
        Index("ix_certifications_product_decision", "product_id", "decision_date"),
    )


class ProductPhoto(Base):
    """A product's photo as its producer sent it, re-encoded; shoppers see it once the office approves it."""

    __tablename__ = "product_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    status: Mapped[PhotoStatus] = mapped_column(enum_type(PhotoStatus), default=PhotoStatus.PENDING)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    # SHA-256 of `image`: the public address of the picture, so a cache may keep it for ever.
    digest: Mapped[str] = mapped_column(String(64), index=True)
    media_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int]
    height: Mapped[int]
    image: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail_width: Mapped[int]
    thumbnail_height: Mapped[int]

    product: Mapped[Product] = relationship()

    __table_args__ = (
        # At most one approved photo per product, whatever two reviewers click at the same moment.
        Index(
            "ux_product_photos_approved",
            "product_id",
            unique=True,
            sqlite_where=sql_text("status = 'approved'"),
            postgresql_where=sql_text("status = 'approved'"),
        ),
    )
