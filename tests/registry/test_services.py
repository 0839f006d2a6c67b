"""Registry services: validation with clear messages, idempotent saves, certification rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from traceability.errors import Conflict, ValidationError
from traceability.registry import certification_rules, services
from traceability.registry.models import AuthorityLevel, CertificationStatus
from traceability.registry.services import CertificationData, ProducerData, ProductNotCertified

VALID_MST = "0100109106"  # a real-format 10-digit tax code with a correct check digit


def producer_data(**overrides: Any) -> ProducerData:
    values: dict[str, Any] = {
        "code": "nt-p01",
        "name": "Hợp tác xã Nho Thái An",
        "type": "cooperative",
        "commune": "Xã Nhơn Hải",
        "district": "Huyện Ninh Hải",
        "province_code": "58",
        "address_scheme": "pre2025",
        "address_as_of": date(2024, 1, 1),
        "tax_code": VALID_MST,
    }
    values.update(overrides)
    return ProducerData(**values)


def test_producer_is_normalised_and_saved_idempotently(session: Any) -> None:
    first = services.save_producer(session, producer_data())
    again = services.save_producer(session, producer_data(name="Hợp tác xã Nho Thái An (mới)"))
    assert first.id == again.id
    assert again.code == "NT-P01"
    assert again.province == "Ninh Thuận"  # filled from the official code when not given
    assert again.name == "Hợp tác xã Nho Thái An (mới)"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"tax_code": "0100109107"}, "tax_code", "check digit"),
        ({"tax_code": "12345"}, "tax_code", "not a valid tax code"),
        ({"type": "kolkhoz"}, "type", "must be one of"),
        ({"code": "bad code!"}, "code", "not a valid code"),
        ({"name": "  "}, "name", "name is required"),
        ({"province_code": "5"}, "province_code", "2-digit"),
        ({"province_code": "99"}, "province", "unknown province code"),
        ({"address_scheme": "2025"}, "district", "no district"),
        ({"address_scheme": "1975"}, "address_scheme", "must be one of"),
    ],
)
def test_bad_producer_input_is_refused_with_a_reason(
    session: Any, overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.save_producer(session, producer_data(**overrides))
    assert caught.value.field == field
    assert message in caught.value.message


def test_household_may_use_a_personal_id(session: Any) -> None:
    producer = services.save_producer(session, producer_data(type="household", tax_code="058123456789"))
    assert producer.tax_code == "058123456789"


def test_tax_code_belongs_to_one_producer(session: Any) -> None:
    services.save_producer(session, producer_data())
    with pytest.raises(Conflict, match="already belongs"):
        services.save_producer(session, producer_data(code="NT-P02"))


@pytest.mark.parametrize(
    ("stars", "score", "level", "decided", "message"),
    [
        (4, 65, "provincial", date(2024, 5, 1), "at least 70"),
        (5, 95, "provincial", date(2024, 5, 1), "Ministry"),
        (3, 55, "national", date(2024, 5, 1), "province"),
        (3, 55, "district", date(2025, 8, 1), "before 2025-07-06"),
        (4, 75, "district", date(2024, 8, 1), "only 3 stars"),
        (2, 45, "provincial", date(2024, 5, 1), "only 3, 4 or 5"),
        (3, 101, "provincial", date(2024, 5, 1), "between 0 and 100"),
    ],
)
def test_certification_rules(stars: int, score: int, level: str, decided: date, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        certification_rules.check(stars, Decimal(score), AuthorityLevel(level), decided)


def test_score_above_the_star_band_is_allowed() -> None:
    # The rubric's minimum requirements can hold a 92-point product at 4 stars.
    certification_rules.check(4, Decimal(92), AuthorityLevel.PROVINCIAL, date(2024, 1, 1))


@pytest.mark.parametrize(
    ("decided", "until"),
    [
        (date(2024, 3, 15), date(2027, 3, 14)),
        (date(2024, 2, 29), date(2027, 2, 28)),
        (date(2024, 1, 1), date(2026, 12, 31)),
    ],
)
def test_validity_is_36_months(decided: date, until: date) -> None:
    assert certification_rules.valid_until(decided) == until


def test_new_certification_supersedes_and_stampability_follows_dates(session: Any, factory: Any) -> None:
    product = factory.product(stars=3, decision_date=date(2023, 1, 10))
    assert services.current_certification(product, date(2025, 1, 1)) is not None
    with pytest.raises(ProductNotCertified, match="expired"):
        services.require_stampable(product, date(2026, 1, 10))
    renewed = services.add_certification(
        session,
        product,
        CertificationData(
            stars=4,
            score=80,
            decision_number="99/QĐ-UBND",
            decision_date=date(2025, 12, 1),
            authority="UBND tỉnh Khánh Hòa",
            authority_level="provincial",
            application_type="upgrade",
        ),
    )
    (earlier,) = [c for c in product.certifications if c is not renewed]
    assert earlier.status is CertificationStatus.SUPERSEDED
    assert services.require_stampable(product, date(2026, 1, 10)) is renewed
    # Recording the same decision twice is harmless (imports re-run).
    assert (
        services.add_certification(
            session,
            product,
            CertificationData(
                stars=4,
                score=80,
                decision_number="99/QĐ-UBND",
                decision_date=date(2025, 12, 1),
                authority="UBND tỉnh Khánh Hòa",
                authority_level="provincial",
            ),
        )
        is renewed
    )


def test_reevaluation_grace_is_180_days(session: Any, factory: Any) -> None:
    product = factory.product(stars=4, decision_date=date(2022, 1, 1))
    certification = product.certifications[0]
    services.set_certification_status(session, certification, "in_reevaluation", "filed on time")
    assert certification_rules.is_valid_on(certification, date(2025, 6, 29))
    assert not certification_rules.is_valid_on(certification, date(2025, 6, 30))


def test_product_needs_a_known_product_set_and_valid_gtin(session: Any, factory: Any) -> None:
    producer = factory.producer()
    with pytest.raises(ValidationError, match="unknown product set"):
        services.save_product(session, services.ProductData("X1", "Mắm", producer.code, "IX.9.z"))
    with pytest.raises(ValidationError, match="valid GTIN"):
        services.save_product(session, services.ProductData("X1", "Mắm", producer.code, "I.4.a", gtin="8934567890121"))
    product = services.save_product(
        session, services.ProductData("X1", "Mắm", producer.code, "I.4.a", gtin="8934567890120")
    )
    assert product.gtin == "8934567890120"


def test_demo_data_loads_twice_without_change(session: Any) -> None:
    from sqlalchemy import func, select

    from traceability.registry.demo import load_demo
    from traceability.registry.models import Certification, Product

    first = load_demo(session)
    session.commit()
    counts = (
        session.scalar(select(func.count(Product.id))),
        session.scalar(select(func.count(Certification.id))),
    )
    assert load_demo(session) == first
    session.commit()
    assert counts == (
        session.scalar(select(func.count(Product.id))),
        session.scalar(select(func.count(Certification.id))),
    )
    assert first["products"] >= 25
