"""Registry services: validation with clear messages, idempotent saves, certification rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from traceability.errors import Conflict, DomainError, ValidationError
from traceability.registry import certification_rules, editing, services, validation
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
    assert product.gtin == "08934567890120"  # stored as GTIN-14


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("8936123450014", "08936123450014"),  # GTIN-13 (EAN-13)
        ("08936123450014", "08936123450014"),  # the same, as GTIN-14
        (" 8936 1234 5001 4 ", "08936123450014"),  # spaces as printed under a barcode
        ("036000291452", "00036000291452"),  # GTIN-12 (UPC-A)
        ("96385074", "00000096385074"),  # GTIN-8
        ("18936123450011", "18936123450011"),  # GTIN-14 of a case (packaging indicator 1)
    ],
)
def test_gtins_are_stored_as_gtin_14(typed: str, stored: str) -> None:
    assert validation.gtin(typed) == stored


@pytest.mark.parametrize("typed", ["893612345001", "8936123450015", "089361234500140", "893612345001a", "1234567"])
def test_a_bad_gtin_is_refused(typed: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validation.gtin(typed)
    assert refused.value.field == "gtin"


@pytest.mark.parametrize(
    ("first", "second"), [("8936123450014", "08936123450014"), ("08936123450014", "8936123450014")]
)
def test_one_gtin_written_two_ways_belongs_to_one_product(session: Any, factory: Any, first: str, second: str) -> None:
    producer = factory.producer()
    services.save_product(session, services.ProductData("X1", "Mắm", producer.code, "I.4.a", gtin=first))
    with pytest.raises(services.DuplicateGtin, match="already belongs to product X1") as refused:
        services.save_product(session, services.ProductData("X2", "Mắm tôm", producer.code, "I.4.a", gtin=second))
    assert (refused.value.status, refused.value.details["field"]) == (409, "gtin")
    # The product that holds it may be saved again with either form.
    assert (
        services.save_product(session, services.ProductData("X1", "Mắm", producer.code, "I.4.a", gtin=second)).gtin
        == "08936123450014"
    )


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


@pytest.mark.parametrize(
    ("find", "error", "status", "message"),
    [
        (lambda s: editing.producer_or_404(s, "nobody"), editing.ProducerNotFound, 404, "no producer has the code"),
        (lambda s: editing.area_or_404(s, "nowhere"), editing.AreaNotFound, 404, "no raw-material area has the code"),
        (lambda s: services.product_or_404(s, "nothing"), services.ProductNotFound, 404, "no product has the code"),
        (lambda s: editing.certification_or_404(s, 999), editing.CertificationNotFound, 404, "no certification 999"),
    ],
)
def test_missing_records_are_named_errors(
    session: Any, find: Any, error: type[DomainError], status: int, message: str
) -> None:
    with pytest.raises(error, match=message) as raised:
        find(session)
    assert raised.value.status == status
    assert raised.value.code.endswith("_not_found")


def test_a_new_record_cannot_take_an_existing_code_nor_an_edit_change_it(session: Any, factory: Any) -> None:
    factory.producer("NT-P01")
    with pytest.raises(editing.DuplicateCode, match="a producer with the code NT-P01 exists already") as duplicate:
        editing.save_producer(session, producer_data(code="nt-p01", tax_code=None), actor="test")
    assert (duplicate.value.status, duplicate.value.template) == (
        409,
        "a %(kind)s with the code %(code)s exists already: edit it instead",
    )
    with pytest.raises(editing.CodeChanged, match="code cannot change"):
        editing.save_producer(session, producer_data(code="NT-P02", tax_code=None), actor="t", existing_code="NT-P01")
